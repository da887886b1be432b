// Role assignments for the app's managed identity (and, optionally, report access for the
// deployer). Each assignment is named guid(scope, principal, role) so re-deploying is a no-op.
@description('Name of the storage account the app uses.')
param storageAccountName string

@description('Name of the Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Principal (object) id of the app\'s user-assigned managed identity.')
param identityPrincipalId string

@description('Object id of the deployer, given read access to run reports; empty to skip.')
param deployerPrincipalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('Kind of principal the deployer is (ServicePrincipal when azd runs in a pipeline).')
param deployerPrincipalType string = 'User'

@description('The run store container; the deployer may read its reports and plan pages, nothing else.')
param runStoreContainerName string

var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
var storageBlobDataReaderRoleId = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' // Storage Blob Data Reader

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Owner, not Contributor: the Functions docs ("Connecting to host storage with an identity") name
// Storage Blob Data Owner as the minimum for the host's AzureWebJobsStorage (coordination, timer
// locks, the key store), and the Durable task hub and the run store share that connection and
// account. Durable alone and the run store would do with Storage Blob Data Contributor. Owner's
// extra data actions (ACLs and ownership, blob index tags, version and permanent delete,
// immutability holds) serve features this account does not use, so they add no power over the
// run-store files; moving the run store to its own account with Contributor is how to drop it.
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
  }
}

// Required for the Durable task hub's control and work-item queues.
resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
  }
}

// Required for the Durable task hub's instance and history tables.
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
  }
}

// Required because Application Insights has local auth disabled: telemetry is sent with an Entra token.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
  }
}

// Reports, plan pages and plan.csv of the run store, and nothing else: not the chunk files (full
// numbers), the user pages or the outcomes of a run, nor the host's containers (function keys,
// deployment package). Role-assignment condition (Azure ABAC) on the blob path: reading a blob
// needs the run-store container and a path under runs/<id>/ that starts with report or plan and
// has no chunks/, pages/ or outcomes/ folder in it. Listing is allowed in that container only
// (blob names hold run ids and page numbers, no user data).
// Bicep's multi-line strings do not interpolate, hence the placeholder.
var deployerReadConditionTemplate = '''
(
  (
    !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})
  )
  OR
  (
    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals '<runStoreContainer>'
    AND
    (
      @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike 'runs/*/report*'
      OR
      @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike 'runs/*/plan*'
    )
    AND
    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringNotLike '*/chunks/*'
    AND
    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringNotLike '*/pages/*'
    AND
    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringNotLike '*/outcomes/*'
  )
)
AND
(
  (
    !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND SubOperationMatches{'Blob.List'})
  )
  OR
  (
    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals '<runStoreContainer>'
  )
)
'''
var deployerReadCondition = replace(deployerReadConditionTemplate, '<runStoreContainer>', runStoreContainerName)

// Lets the admin who ran azd read run reports (report.csv) in the portal; read only, and only
// what deployerReadCondition allows.
resource deployerBlobReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(storage.id, deployerPrincipalId, storageBlobDataReaderRoleId)
  scope: storage
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReaderRoleId)
    condition: deployerReadCondition
    conditionVersion: '2.0'
  }
}
