// Storage for the Functions host (Durable task hub queues and tables, leases), the Flex
// deployment package and the run store. Identity-based access only: shared keys are off, so no
// connection string exists that could leak.
@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object = {}

@description('Blob containers to create: the deployment package and the run store.')
param containerNames array

@description('The run store container (one of containerNames); its runs/ folder expires.')
param runStoreContainerName string

@minValue(1)
@maxValue(3650)
@description('Days after its last change that a run-store blob is deleted (RUN_RETENTION_DAYS).')
param runRetentionDays int

@allowed(['public', 'restricted'])
@description('public: reachable from any network, with Entra auth only (the Flex app needs no VNet). restricted: firewall on, only allowedIpRanges, allowedSubnetIds and trusted Azure services get through.')
param networkMode string = 'public'

@description('restricted mode: public IPv4 addresses or CIDR ranges let through the firewall (the deployer, for azd deploy and the portal).')
param allowedIpRanges array = []

@description('restricted mode: subnet resource ids let through the firewall (the Function app\'s VNet integration subnet, with the Microsoft.Storage service endpoint).')
param allowedSubnetIds array = []

@description('Resource id of the Log Analytics workspace that receives the blob service logs.')
param workspaceId string

var ipRules = [for range in allowedIpRanges: { value: range, action: 'Allow' }]
var subnetRules = [for subnetId in allowedSubnetIds: { id: subnetId, action: 'Allow' }]
var restricted = networkMode == 'restricted'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // The public endpoint stays on in both modes: without VNet integration a Flex app reaches
    // its storage over it. 'restricted' puts the firewall in front; private endpoints (public
    // access Disabled) need a VNet, private DNS zones and a deployer inside the network, which
    // this template does not create (see the README's security model).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: restricted ? 'Deny' : 'Allow'
      ipRules: restricted ? ipRules : []
      virtualNetworkRules: restricted ? subnetRules : []
    }
  }

  resource blobServices 'blobServices' = {
    name: 'default'
    properties: {
      // Reports hold UPNs; a deleted run folder can be recovered for a week.
      deleteRetentionPolicy: { enabled: true, days: 7 }
    }

    resource containers 'containers' = [
      for containerName in containerNames: {
        name: containerName
        properties: { publicAccess: 'None' }
      }
    ]
  }

  // Numbers do not linger: every run-store blob (chunk files with full numbers, pages, outcomes,
  // reports) is deleted runRetentionDays after its last change. Storage runs the policy about
  // once a day, and soft delete keeps a deleted blob 7 more days.
  resource lifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'expire-run-data'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: {
                blobTypes: ['blockBlob']
                prefixMatch: ['${runStoreContainerName}/runs/']
              }
              actions: {
                baseBlob: {
                  delete: { daysAfterModificationGreaterThan: runRetentionDays }
                }
              }
            }
          }
        ]
      }
    }
  }
}

// Who read, wrote or deleted which blob (run-store chunk files, reports, the deployment package),
// with the caller's identity, in the workspace's StorageBlobLogs table. The host's own lease
// traffic is in it too while the app runs.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'blob-to-log-analytics'
  scope: storage::blobServices
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
  }
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
