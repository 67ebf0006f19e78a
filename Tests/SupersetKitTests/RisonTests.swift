import Testing
@testable import SupersetKit

@Suite struct RisonTests {
    @Test func identifiersStayBare() {
        #expect(Rison.string("slug").encoded == "slug")
        #expect(Rison.string("a-b_c.d/e~f").encoded == "a-b_c.d/e~f")
    }

    @Test func stringsWithSpacesOrSpecialsAreQuoted() {
        #expect(Rison.string("Sales overview").encoded == "'Sales overview'")
        #expect(Rison.string("").encoded == "''")
        #expect(Rison.string("1abc").encoded == "'1abc'")
        #expect(Rison.string("-x").encoded == "'-x'")
        #expect(Rison.string("a:b").encoded == "'a:b'")
    }

    @Test func bangAndQuoteAreEscaped() {
        #expect(Rison.string("it's").encoded == "'it!'s'")
        #expect(Rison.string("wow!").encoded == "'wow!!'")
        #expect(Rison.string("!'").encoded == "'!!!''")
    }

    @Test func scalarsListsAndObjects() {
        #expect(Rison.bool(true).encoded == "!t")
        #expect(Rison.bool(false).encoded == "!f")
        #expect(Rison.null.encoded == "!n")
        #expect(Rison.int(-3).encoded == "-3")
        #expect(Rison.double(1.5).encoded == "1.5")
        #expect(Rison.list([1, 2, 3]).encoded == "!(1,2,3)")
        #expect(Rison.list([]).encoded == "!()")
        let q = Rison.object([
            ("filters", .list([.object([("col", "slug"), ("opr", "eq"), ("value", "x y")])])),
            ("columns", ["id", "uuid"]), ("page", 0), ("page_size", 100),
        ])
        #expect(q.encoded == "(filters:!((col:slug,opr:eq,value:'x y')),columns:!(id,uuid),page:0,page_size:100)")
    }

    @Test func queryValueIsPercentEncoded() {
        let q = Rison.object([("value", "a b&c=d")])
        #expect(q.queryValue == "(value:'a%20b%26c%3Dd')")
        #expect(!q.queryValue.contains(" "))
    }
}
