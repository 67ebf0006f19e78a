enum ErrorPage {
    struct Model: Equatable {
        var status: Int
        var title: String
        var detail: String
    }
}
