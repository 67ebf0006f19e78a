/// Keeps the resident set small on Linux: glibc holds on to freed memory (one arena per thread
/// by default), which made an idle `ferry serve` look 15 MB bigger after an inventory reload.
/// (`mallopt` and `malloc_trim` are glibc's, from malloc.h, which the Glibc module doesn't export.)
enum MemoryRelease {
    /// At most two malloc arenas. Call once, before threads start.
    static func limitArenas() {
        #if os(Linux)
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        #endif
    }

    /// Returns freed heap pages to the system (after large, short-lived allocations).
    static func trim() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
