import Foundation
import Hummingbird
import Mustache

/// Renders the Mustache pages under `Resources/templates`, all sharing `layout.mustache`.
public struct PageRenderer: Sendable {
    private let library: MustacheLibrary
    /// The files under `Resources/static` (name → bytes and type), served from memory.
    let assets: [String: (body: String, contentType: String)]

    /// Loads the templates and the stylesheet from the module's resources.
    public static func load() async throws -> PageRenderer {
        // `.copy("Resources")` keeps the folder; some platforms' bundles add a `Resources` level too.
        guard let root = Bundle.module.resourceURL,
              let base = [root.appendingPathComponent("Resources"), root].first(where: {
                  FileManager.default.fileExists(atPath: $0.appendingPathComponent("templates").path)
              })
        else { throw AppError.internalError }
        let library = try await MustacheLibrary(directory: base.appendingPathComponent("templates").path)
        var assets: [String: (body: String, contentType: String)] = [:]
        let folder = base.appendingPathComponent("static")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8"
                : name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "application/octet-stream"
            assets[name] = (try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8), type)
        }
        return PageRenderer(library: library, assets: assets)
    }

    /// The HTML of `template` with `data`.
    func html(_ template: String, _ data: [String: Any]) -> String {
        library.render(data, withTemplate: template) ?? ErrorPage.render(status: .internalServerError, detail: "The page could not be shown.")
    }

    /// A `text/html` response of `template`.
    func response(_ template: String, _ data: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let body = html(template, data)
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}

extension Response {
    /// `303 See Other` to `location` (after a form post the browser follows with GET).
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// `302 Found` to `location`.
    static func found(_ location: String) -> Response {
        Response(status: .found, headers: [.location: location])
    }
}

/// Renders pages with what every page needs: the CSRF token for its forms (setting the CSRF
/// cookie when the browser has none yet) and whether someone is signed in.
public struct Pages: Sendable {
    let renderer: PageRenderer
    let csrf: CSRFProtection

    public init(renderer: PageRenderer, csrf: CSRFProtection) {
        self.renderer = renderer
        self.csrf = csrf
    }

    /// The page `template` with `data`, the layout's values and the CSRF cookie.
    func render(
        _ template: String, _ data: [String: Any], request: Request, context: AppRequestContext?,
        status: HTTPResponse.Status = .ok, csrfState given: CSRFProtection.State? = nil, noStore: Bool = false
    ) -> Response {
        let csrfState = given ?? csrf.token(for: request)
        var data = data
        data["csrfToken"] = csrfState.token
        data["signedIn"] = context?.signedIn != nil
        var response = renderer.response(template, data, status: status)
        if let cookie = csrfState.newCookie { response.setCookie(cookie) }
        // `noStore`: a page with a secret (or a fresh PKCE pair) on it must not be kept by any cache.
        if noStore { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
