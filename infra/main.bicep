// mfa-prepopulate: Flex Consumption Durable Functions app that registers users' known mobile
// numbers as their MFA phone method through Microsoft Graph. Shape follows the Azure-Samples azd
// Functions templates. NOT compiled in CI (no Bicep compiler offline); see infra/README.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used in resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. Must offer the Flex Consumption plan.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deployer (azd sets it); gets read access to run reports. Empty to skip.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('Kind of principal principalId is; ServicePrincipal when azd runs in a pipeline.')
param principalType string = 'User'

@description('Resource group name; empty for rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function app name; empty for a generated one.')
param functionAppName string = ''

@description('Storage account name; empty for a generated one.')
param storageAccountName string = ''

@description('User-assigned managed identity name; empty for a generated one.')
param identityName string = ''

@description('Log Analytics workspace name; empty for a generated one.')
param logAnalyticsName string = ''

@description('Application Insights name; empty for a generated one.')
param applicationInsightsName string = ''

// ---- product settings (names and meaning: contracts/cli.md) ----

@minLength(1)
@description('STAGING_GROUP: object id or display name of the pilot group; only its transitive members are touched. Required, so the first deployment never reaches the whole tenant.')
param stagingGroup string

@description('EXCLUDE_GROUPS: comma-separated group ids or display names whose transitive members are never touched.')
param excludeGroups string = ''

@description('DEFAULT_REGION: ISO 3166-1 alpha-2 region (e.g. DK) for numbers without a country code; empty rejects them.')
param defaultRegion string = ''

@allowed(['mfaUnregistered', 'noMobileMethod', 'ssprUnregistered'])
@description('TARGET: mfaUnregistered (report says not MFA registered), noMobileMethod (no method of the kind written) or ssprUnregistered (report says not SSPR registered).')
param target string = 'mfaUnregistered'

@description('METHODS: comma-separated methods to register: mobile (mobilePhone), email (first otherMails address), office (first businessPhones number).')
param methods string = 'mobile'

@allowed(['true', 'false'])
@description('SKIP_ADMINS: leave users the registration report marks as admins alone.')
param skipAdmins string = 'true'

@allowed(['true', 'false'])
@description('ALLOW_LANDLINE: accept numbers that are fixed-line only.')
param allowLandline string = 'false'

@allowed(['true', 'false'])
@description('REPLACE_EXISTING: change an existing mobile method whose number differs.')
param replaceExisting string = 'false'

@description('MAX_WRITES_PER_RUN: stop planning writes past this many per run; 0 = no cap.')
param maxWritesPerRun string = '0'

@description('NUMBER_SETTLE_DAYS: a number is written only after the user has held it this many days; 0 turns the guard off.')
param numberSettleDays string = '3'

@description('APPROVAL_THRESHOLD: a run planning more writes waits for an operator\'s approval; 0 = never ask.')
param approvalThreshold string = '1000'

@description('APPROVAL_TIMEOUT_HOURS: an unapproved run ends with nothing written after this many hours.')
param approvalTimeoutHours string = '20'

@description('RERUN_MAX_AGE_HOURS: reruns of runs that finished longer ago are refused.')
param rerunMaxAgeHours string = '48'

@allowed(['true', 'false'])
@description('DRY_RUN: plan and report, write nothing. On until the admin has read a dry-run report.')
param dryRun string = 'true'

@description('NIGHTLY_SCHEDULE: NCRONTAB (six fields, UTC) of the nightly run.')
param nightlySchedule string = '0 0 2 * * *'

@allowed(['masked', 'full'])
@description('LOG_PHONE_NUMBERS: masked or full phone numbers in log lines.')
param logPhoneNumbers string = 'masked'

@description('GRAPH_BASE_URL: Graph root; change only for a national cloud.')
param graphBaseUrl string = 'https://graph.microsoft.com'

// ---- security (README: Security model) ----

@minLength(36)
@maxLength(36)
@description('Client (application) id of the runs API\'s Entra app registration, from infra/scripts/createApiApp.sh. Required: App Service authentication rejects every call without a token issued for it (401).')
param apiClientId string

@minValue(1)
@maxValue(3650)
@description('RUN_RETENTION_DAYS: run-store data (chunk files with full numbers, reports) is deleted this many days after it was written.')
param runRetentionDays int = 30

@allowed(['public', 'restricted'])
@description('Storage network access. public: any network, Entra auth only (works with no VNet). restricted: firewall on; only storageAllowedIpRanges, appSubnetId and trusted Azure services get through.')
param storageNetworkMode string = 'public'

@description('restricted mode: public IPv4 addresses or CIDR ranges of the deployers (azd deploy, the portal).')
param storageAllowedIpRanges array = []

@description('Subnet resource id for the app\'s VNet integration (delegated to Microsoft.App/environments, with the Microsoft.Storage service endpoint); required for restricted mode. Empty for none.')
param appSubnetId string = ''

// ---- hosting ----

@minValue(0)
@maxValue(3)
@description('Always-ready instances for the durable trigger group. 0 keeps the idle cost near zero (the timer wakes the app); 1 is what the Flex docs advise for Durable latency.')
param durableAlwaysReady int = 0

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}mfa-${resourceToken}'
// Flex Consumption pulls the app package from this container.
var deploymentContainerName = 'app-package-${take(toLower(appName), 32)}-${take(resourceToken, 7)}'
// The run store (RUN_STORE=blob): run state, per-user outcomes and the reports.
var runStoreContainerName = 'mfa-prepopulate-runs'
// host.json reads the hub name from %TASKHUB_NAME%; letters and digits only.
var taskHubName = 'mfaprepopulate'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: !empty(identityName) ? identityName : '${abbrs.managedIdentityUserAssignedIdentities}mfa-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    containerNames: [deploymentContainerName, runStoreContainerName]
    runStoreContainerName: runStoreContainerName
    runRetentionDays: runRetentionDays
    networkMode: storageNetworkMode
    allowedIpRanges: storageAllowedIpRanges
    allowedSubnetIds: empty(appSubnetId) ? [] : [appSubnetId]
    workspaceId: monitoring.outputs.logAnalyticsId
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    runStoreContainerName: runStoreContainerName
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    durableAlwaysReady: durableAlwaysReady
    apiClientId: apiClientId
    workspaceId: monitoring.outputs.logAnalyticsId
    virtualNetworkSubnetId: appSubnetId
    appSettings: {
      GRAPH_BASE_URL: graphBaseUrl
      GRAPH_ALLOW_LOOPBACK: 'false'
      STAGING_GROUP: stagingGroup
      EXCLUDE_GROUPS: excludeGroups
      DEFAULT_REGION: defaultRegion
      TARGET: target
      METHODS: methods
      SKIP_ADMINS: skipAdmins
      ALLOW_LANDLINE: allowLandline
      REPLACE_EXISTING: replaceExisting
      MAX_WRITES_PER_RUN: maxWritesPerRun
      NUMBER_SETTLE_DAYS: numberSettleDays
      APPROVAL_THRESHOLD: approvalThreshold
      APPROVAL_TIMEOUT_HOURS: approvalTimeoutHours
      RERUN_MAX_AGE_HOURS: rerunMaxAgeHours
      DRY_RUN: dryRun
      NIGHTLY_SCHEDULE: nightlySchedule
      LOG_PHONE_NUMBERS: logPhoneNumbers
      RUN_STORE: 'blob'
      RUN_STORE_CONTAINER: runStoreContainerName
      RUN_RETENTION_DAYS: string(runRetentionDays)
      TASKHUB_NAME: taskHubName
    }
  }
  // The app starts with identity-based storage settings; without its roles the host fails to start.
  dependsOn: [rbac]
}

module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceId: monitoring.outputs.logAnalyticsId
  }
}

// Outputs become azd environment values; the postprovision hook reads them. No keys, no
// connection strings, no secrets.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output RUN_STORE_CONTAINER string = runStoreContainerName
output API_CLIENT_ID string = apiClientId
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_WORKBOOK_ID string = workbook.outputs.id
