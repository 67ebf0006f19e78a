import Foundation

extension Array where Element: Sendable {
    /// `transform` of every element, at most `limit` at a time, results in the elements' order.
    /// The first error cancels the rest and is rethrown.
    func concurrentMap<R: Sendable>(limit: Int, _ transform: @escaping @Sendable (Element) async throws -> R) async throws -> [R] {
        var results = [R?](repeating: nil, count: count)
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var next = 0
            func add() {
                guard next < count else { return }
                let index = next, element = self[index]
                next += 1
                group.addTask { (index, try await transform(element)) }
            }
            for _ in 0..<Swift.max(1, limit) { add() }
            while let (index, result) = try await group.next() {
                results[index] = result
                add()
            }
        }
        return results.map { $0! }
    }
}
