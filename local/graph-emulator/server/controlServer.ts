/**
 * The plain-http server beside Graph: the managed-identity endpoint at `/msi/token` and the admin
 * API under `/admin`.
 */
import http from "node:http";
import { handleAdmin, type AdminContext } from "./admin.js";
import { readBody, sendJson } from "./http.js";
import { handleManagedIdentity } from "./managedIdentity.js";

/**
 * Creates (does not start) the server.
 *
 * @param admin - what the admin API works on (its issuer also serves the identity endpoint)
 * @param identityHeader - the secret the identity endpoint expects in `X-IDENTITY-HEADER`
 */
export function createControlServer(admin: AdminContext, identityHeader: string): http.Server {
  return http.createServer((req, res) => {
    void (async () => {
      try {
        const raw = (await readBody(req)) ?? "";
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = url.pathname.replace(/\/+$/, "");
        if (path === "/msi/token") {
          handleManagedIdentity(admin.issuer, identityHeader, req, res, url);
          return;
        }
        if (path.startsWith("/admin")) {
          const sub = path.slice("/admin".length);
          handleAdmin(admin, res, req.method ?? "GET", sub, raw, url.searchParams);
          return;
        }
        sendJson(res, 404, {
          error: { code: "NotFound", message: `GraphEmulator: no route '${path}'.` },
        });
      } catch (e) {
        if (!res.headersSent) {
          sendJson(res, 400, {
            error: { code: "BadRequest", message: e instanceof Error ? e.message : String(e) },
          });
        }
      }
    })();
  });
}
