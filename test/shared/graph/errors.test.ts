import { describe, expect, it } from "vitest";
import {
  GraphRequestError,
  classifyGraphError,
  permissionForRoute,
  routeOf,
} from "../../../shared/graph/errors.js";

describe("routeOf", () => {
  it("drops host, version, query and identifiers so routes are safe to log", () => {
    expect(
      routeOf(
        "https://graph.microsoft.com/v1.0/users/o'brien%40contoso.example/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7?x=1",
      ),
    ).toBe("/users/{id}/authentication/phoneMethods/{id}");
    expect(routeOf("/users?$top=999")).toBe("/users");
    expect(routeOf("/groups/abc/transitiveMembers/microsoft.graph.user")).toBe(
      "/groups/{id}/transitiveMembers/microsoft.graph.user",
    );
    expect(routeOf("/reports/authenticationMethods/userRegistrationDetails?$filter=x")).toBe(
      "/reports/authenticationMethods/userRegistrationDetails",
    );
    expect(routeOf("https://127.0.0.1:8443/beta/$batch")).toBe("/$batch");
  });
});

describe("classifyGraphError", () => {
  it("treats throttling, 5xx and lost connections as transient", () => {
    for (const status of [0, 408, 429, 500, 502, 503, 504]) {
      expect(classifyGraphError({ status, code: "x", route: "/users" })).toBe("transient");
    }
  });

  it("treats a refused write for one user as a per-user failure", () => {
    expect(
      classifyGraphError({
        status: 400,
        code: "badRequest",
        route: "/users/{id}/authentication/phoneMethods",
      }),
    ).toBe("perUser");
    expect(
      classifyGraphError({ status: 404, code: "Request_ResourceNotFound", route: "/users/{id}" }),
    ).toBe("perUser");
    expect(
      classifyGraphError({
        status: 409,
        code: "phoneNumberNotUnique",
        route: "/users/{id}/authentication/phoneMethods",
      }),
    ).toBe("perUser");
  });

  it("stops the run on missing permissions, licence, tokens or a query Graph rejects", () => {
    expect(
      classifyGraphError({
        status: 403,
        code: "accessDenied",
        route: "/users/{id}/authentication/phoneMethods",
      }),
    ).toBe("fatal");
    expect(
      classifyGraphError({ status: 401, code: "InvalidAuthenticationToken", route: "/users" }),
    ).toBe("fatal");
    expect(
      classifyGraphError({ status: 400, code: "Request_UnsupportedQuery", route: "/users" }),
    ).toBe("fatal");
  });
});

describe("GraphRequestError", () => {
  it("names the missing permission for a 403 and keeps Graph's code and ids", () => {
    const error = new GraphRequestError({
      status: 403,
      code: "accessDenied",
      requestId: "r-1",
      method: "POST",
      route: "/users/{id}/authentication/phoneMethods",
    });
    expect(error.kind).toBe("fatal");
    expect(error.code).toBe("accessDenied");
    expect(error.requestId).toBe("r-1");
    expect(error.message).toContain("'UserAuthenticationMethod.ReadWrite.All'");
    expect(error.message).toContain("request-id 'r-1'");
    // A role granted a moment ago may not be in a managed identity's cached token yet.
    expect(error.message).toMatch(/managed identity.*up to 24 hours/);
  });

  it("names the licence when the report needs Entra ID P1", () => {
    const error = new GraphRequestError({
      status: 403,
      code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
      route: "/reports/authenticationMethods/userRegistrationDetails",
    });
    expect(error.kind).toBe("fatal");
    expect(error.message).toMatch(/P1 or P2 licence/);
  });

  it("maps each route to its least-privileged permission", () => {
    expect(permissionForRoute("/users")).toBe("User.Read.All");
    expect(permissionForRoute("/groups/{id}/transitiveMembers/microsoft.graph.user")).toBe(
      "GroupMember.Read.All",
    );
    expect(permissionForRoute("/reports/authenticationMethods/userRegistrationDetails")).toBe(
      "AuditLog.Read.All",
    );
  });
});
