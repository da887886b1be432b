// The Function app: Flex Consumption (Linux), Node 22, Durable Functions on Azure Storage with
// identity-based connections, one user-assigned identity for storage, telemetry and Graph.
@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags; the app also gets azd-service-name: api, matching azure.yaml.')
param tags object = {}

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity (AZURE_CLIENT_ID and the storage connection).')
param identityClientId string

@description('Name of the storage account for the host, the deployment package and the run store.')
param storageAccountName string

@description('Blob container Flex Consumption deploys the app package from.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@minValue(0)
@maxValue(3)
@description('Always-ready instances for the durable trigger group.')
param durableAlwaysReady int = 0

// One provisionChunk of a run writes at a time, with the whole limiter inside it, and one run
// runs at a time: however many instances the plan adds, one process writes to Graph.
// Flex Consumption takes a maximum instance count from 1 to 1000 (earlier versions of the page
// said 40 at least); it bounds the on-demand instances of each per-function scale group:
// https://learn.microsoft.com/azure/azure-functions/event-driven-scaling?pivots=flex-consumption-plan#limit-scale-out
@minValue(1)
@maxValue(1000)
@description('Upper bound on instances. Graph load no longer depends on it: one chunk of the one running run writes at a time, on one instance, and hands its limiter to the next.')
param maximumInstanceCount int = 40

@allowed([2048, 4096])
@description('Memory per instance in MB.')
param instanceMemoryMB int = 2048

@description('The product settings (contracts/cli.md), merged over the platform settings below.')
param appSettings object

@minLength(36)
@maxLength(36)
@description('Client (application) id of the runs API\'s Entra app registration (infra/scripts/createApiApp.sh); App Service authentication accepts only tokens issued for it.')
param apiClientId string

@description('Resource id of the Log Analytics workspace that receives the app\'s resource logs.')
param workspaceId string

@description('Subnet (delegated to Microsoft.App/environments) for VNet integration; empty for none.')
param virtualNetworkSubnetId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux; Flex Consumption has no Windows variant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: durableAlwaysReady > 0 ? [{ name: 'durable', instanceCount: durableAlwaysReady }] : []
      }
      runtime: {
        name: 'node'
        version: '22' // Node.js 20 support ended in 2026; package.json engines admits 22
      }
    }
  }
}

// Flex Consumption sets the worker runtime from functionAppConfig; FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION must not appear here.
var platformSettings = {
  // Identity-based AzureWebJobsStorage: the host, the Durable task hub and the run store.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // The connection string names the component only; with local auth off, ingestion needs the
  // identity's Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Graph is called with the same user-assigned identity; no client secret exists.
  GRAPH_AUTH: 'managedIdentity'
  AZURE_CLIENT_ID: identityClientId
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(platformSettings, appSettings)
}

// Who may call the runs API: App Service authentication (built-in, "Easy Auth") with Microsoft
// Entra ID in front of the app. There is no anonymous route and no excluded path: a request
// without a valid token for apiClientId gets 401 from the platform. (The Flex Consumption preview
// did not enforce this; the current plan docs no longer list it as a limitation. The README's
// smoke test checks the 401 after each deployment.) Function keys stay (the HTTP functions keep
// authLevel 'function') as a second lock, but a key alone is not enough: anyone who may list the
// app's keys (Website Contributor and up) holds them all, a key names no caller, and it carries
// no role. The token says who called and which app role (Runs.Read or Runs.Operate) they hold;
// the app reads both from the X-MS-CLIENT-PRINCIPAL header the platform sets. Who holds a role
// is decided in Entra (role assignments, with assignment required on the API's service
// principal), not here.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          // v2.0 issuer of this tenant; the script sets the API to issue v2 access tokens.
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          // v2 tokens carry the client id as audience, v1 tokens the Application ID URI.
          allowedAudiences: [
            apiClientId
            'api://${apiClientId}'
          ]
        }
      }
    }
    login: {
      // Bearer tokens only: no sign-in sessions, so no token store and no client secret.
      tokenStore: {
        enabled: false
      }
    }
  }
}

// The app's resource logs (function execution logs, and the platform's authentication logs where
// it offers them) in the workspace, apart from Application Insights and never sampled.
resource appDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'app-to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: workspaceId
    logs: [
      { categoryGroup: 'allLogs', enabled: true }
    ]
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
output id string = functionApp.id
