/**
 * The public clients an administrator can sign in to the CLI through when the tenant names no app
 * registration of its own. Kept apart from `delegatedAccess.ts` so the settings spec can name the
 * default client without importing what depends on the settings.
 */

/**
 * The Microsoft Graph Command Line Tools' client id (Microsoft Graph PowerShell's public client),
 * the same in every tenant: the client a user sign-in uses when `AZURE_CLIENT_ID` names none. An
 * admin can consent any Graph scope to it, for everyone in the tenant who can sign in to it.
 */
export const GRAPH_COMMAND_LINE_TOOLS_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/**
 * The Azure CLI's client id: a first-party client whose Graph scopes are fixed by Microsoft, none
 * of them for authentication methods (`DeviceCodeCredential`'s default client, too).
 */
export const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
