#!/bin/sh
# Creates, or brings up to date, the Entra app registration that guards the runs API, and prints
# its client id for `azd env set API_CLIENT_ID <id>`. Run it once per tenant, before `azd up`, as
# someone who may create app registrations (Application Developer or Cloud Application
# Administrator). Running it again changes nothing that is already right.
#
#   sh infra/scripts/createApiApp.sh ["display name"]
#
# What it sets, and why:
# - Application ID URI api://<client id>, and v2 access tokens (the issuer the Bicep expects).
# - App roles Runs.Read (status, list, report) and Runs.Operate (start, approve, cancel, rerun),
#   assignable to users, groups and applications. The ids are fixed, so they are the same in every
#   tenant and every run of this script.
# - A delegated scope, user_impersonation, pre-authorised for the Azure CLI, so an operator can
#   get a token with `az rest --resource api://<client id>` or `az account get-access-token`
#   without a consent prompt. The scope grants nothing by itself; the roles do.
# - Assignment required on the service principal: Entra issues a token for this API only to users
#   and applications that hold one of its roles, so nobody else in the tenant gets that far.
# It creates no secret and no certificate: the app only validates tokens.
set -eu

NAME="${1:-mfa-prepopulate runs API}"
ROLE_READ_ID="f07757d9-74b7-46c6-8c1a-f5ea7385830d"
ROLE_OPERATE_ID="86fb36a6-355a-410a-9742-0d6e9141f7a3"
SCOPE_ID="f10c2e44-4ec5-4a5c-bedd-b82c00e198cb"
AZURE_CLI_APP_ID="04b07795-8ddb-461a-bbee-02f9e1bf7b46"
# Graph of the cloud the Azure CLI is signed in to (public, US Government, China).
GRAPH="$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)"
GRAPH="${GRAPH%/}"

APP_ID="$(az ad app list --filter "displayName eq '$NAME'" --query "[0].appId" -o tsv)"
if [ -z "$APP_ID" ]; then
  APP_ID="$(az ad app create --display-name "$NAME" --sign-in-audience AzureADMyOrg --query appId -o tsv)"
  echo "Created app registration '$NAME' ($APP_ID)." >&2
else
  echo "Found app registration '$NAME' ($APP_ID)." >&2
fi
OBJECT_ID="$(az ad app show --id "$APP_ID" --query id -o tsv)"

APP_ROLES='[
  {"id": "'"$ROLE_READ_ID"'", "value": "Runs.Read", "displayName": "Runs.Read",
   "description": "Read the status, list and reports of mfa-prepopulate runs.",
   "allowedMemberTypes": ["User", "Application"], "isEnabled": true},
  {"id": "'"$ROLE_OPERATE_ID"'", "value": "Runs.Operate", "displayName": "Runs.Operate",
   "description": "Start, approve, cancel and rerun mfa-prepopulate runs (writes MFA phone methods).",
   "allowedMemberTypes": ["User", "Application"], "isEnabled": true}
]'
SCOPE='{"id": "'"$SCOPE_ID"'", "value": "user_impersonation", "type": "User", "isEnabled": true,
  "adminConsentDisplayName": "Call the mfa-prepopulate runs API",
  "adminConsentDescription": "Lets the signed-in operator call the runs API with the app roles they hold.",
  "userConsentDisplayName": "Call the mfa-prepopulate runs API",
  "userConsentDescription": "Lets you call the runs API with the app roles you hold."}'

# Identifier URI, token version, scope and roles in one update; the pre-authorisation needs the
# scope to exist, so it is a second update.
az rest --method PATCH --uri "$GRAPH/v1.0/applications/$OBJECT_ID" \
  --headers "Content-Type=application/json" \
  --body '{"identifierUris": ["api://'"$APP_ID"'"],
           "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": ['"$SCOPE"']},
           "appRoles": '"$APP_ROLES"'}'
az rest --method PATCH --uri "$GRAPH/v1.0/applications/$OBJECT_ID" \
  --headers "Content-Type=application/json" \
  --body '{"api": {"preAuthorizedApplications": [
            {"appId": "'"$AZURE_CLI_APP_ID"'", "delegatedPermissionIds": ["'"$SCOPE_ID"'"]}]}}'

SP_ID="$(az ad sp list --filter "appId eq '$APP_ID'" --query "[0].id" -o tsv)"
if [ -z "$SP_ID" ]; then
  SP_ID="$(az ad sp create --id "$APP_ID" --query id -o tsv)"
fi
az rest --method PATCH --uri "$GRAPH/v1.0/servicePrincipals/$SP_ID" \
  --headers "Content-Type=application/json" \
  --body '{"appRoleAssignmentRequired": true}'

echo "Runs API app registration is ready. Next:" >&2
echo "  azd env set API_CLIENT_ID $APP_ID" >&2
echo "$APP_ID"
