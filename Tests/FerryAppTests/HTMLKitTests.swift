import Foundation
import Testing

@testable import FerryApp

/// Ferry's HTML kit, the catalogue's placeholders and links' queries: what every page is made of.
@Suite struct HTMLKitTests {
    func written(_ node: HTMLNode, token: String = "t0ken") -> String {
        var writer = HTMLWriter(csrfToken: token)
        writer.write(node)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func textAndAttributeValuesAreEscapedOnce() {
        let html = written(H.el("p", [("title", #"a"b'<c>&amp;"#), ("hidden", ""), ("class", nil)], text: "<b>&lt;x</b> \"q\""))
        #expect(html == #"<p title="a&quot;b&#39;&lt;c&gt;&amp;amp;" hidden>&lt;b&gt;&amp;lt;x&lt;/b&gt; "q"</p>"#)
        #expect(written(H.void("input", [("value", "<x>"), ("checked", "")])) == #"<input value="&lt;x&gt;" checked/>"#)
    }

    @Test func anAttributeGivenTwiceKeepsItsFirstPlaceAndLastValue() {
        #expect(written(H.a("/x", "x", [("class", "a"), ("href", "/y")])) == #"<a href="/y" class="a">x</a>"#)
    }

    @Test func aPostFormCarriesTheEscapedTokenAndAGetFormNone() {
        let post = written(H.el("form", [("method", "POST"), ("action", "/go")], [H.text("x")]), token: #""><script>"#)
        #expect(post == #"<form method="POST" action="/go"><input type="hidden" name="_csrf" value="&quot;&gt;&lt;script&gt;"/>x</form>"#)
        #expect(!written(H.el("form", [("method", "get")], [])).contains("_csrf"))
    }

    @Test func groupsAndRawPartsAreWrittenInOrder() {
        #expect(written(H.group([H.text("a"), .raw("<br/>"), H.group([]), H.el("i", text: "b")])) == "a<br/><i>b</i>")
    }

    @Test func placeholdersAreFilledInOnePass() {
        let l = Localizer(language: "en", catalogue: Catalogue(tables: ["en": ["k": "{a} and {b}, {missing} {unclosed", "u": "ünï {a}"]]))
        // A value that looks like a placeholder is not filled in again.
        #expect(l.t("k", ["a": "{b}", "b": "B"]) == "{b} and B, {missing} {unclosed")
        #expect(l.t("u", ["a": "é"]) == "ünï é")
        #expect(l.t("k") == "{a} and {b}, {missing} {unclosed")
        #expect(l.t("absent", ["a": "x"]) == "absent")
    }

    @Test func queryValuesComeBackAsThemselves() {
        let path = SiteURL.dashboards.path(query: ["search": "a+b & c=d/é", "owner": "", "page": "2", "mine": nil])
        #expect(path == "/dashboards?page=2&search=a%2Bb%20%26%20c%3Dd/%C3%A9")
        #expect(SiteURL.dashboards.path(query: ["owner": ""]) == "/dashboards")
        let query = String(path.split(separator: "?")[1])
        let decoded = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! } }
        #expect(decoded == [["page", "2"], ["search", "a+b & c=d/é"]])
    }

    @Test func languageLinksStayOnFerryAndEncodeTheQuery() {
        let context = PageContext(localizer: Localizer(language: "en"), path: "//evil.example/x", query: ["q": "a&b=c", "x y": "1"], user: nil, csrf: nil)
        let html = Layout.render(ErrorPage.View(model: .init(status: 404, title: "Not found", detail: "gone")),
                                 context: context)
        #expect(html.contains(#"href="/evil.example/x?lang=ru&amp;q=a%26b%3Dc&amp;x%20y=1""#))
        #expect(!html.contains(#"href="//"#))
    }
}

/// One percent-encoder for links, form bodies and the CLI's URLs.
@Suite struct PercentEncodingTests {
    @Test func everythingButTheUnreservedIsEncoded() {
        #expect(PercentEncoding.encode("a-b.c_d~e") == "a-b.c_d~e")
        #expect(PercentEncoding.encode("a+b&c=d/e?f#g;h i") == "a%2Bb%26c%3Dd%2Fe%3Ff%23g%3Bh%20i")
        #expect(PercentEncoding.encode("/login", keepingSlash: true) == "/login")
        // Non-ASCII letters are encoded (Foundation's .alphanumerics kept them, so a client
        // secret in Cyrillic went into the token request's form body as raw bytes).
        #expect(PercentEncoding.encode("пароль") == "%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C")
        #expect(SSOService.formEncode("sécret+1") == "s%C3%A9cret%2B1")
        #expect(FerryAPIClient.pathSegment("dev/eu") == "dev%2Feu" && FerryAPIClient.queryValue("a b") == "a%20b")
    }
}
