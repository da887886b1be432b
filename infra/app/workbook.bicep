// The "MFA prepopulation" workbook, attached to the Log Analytics workspace. Its queries are the
// files in infra/kql, embedded by infra/scripts/buildWorkbook.ts (a test keeps them identical).
@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object = {}

@description('Resource id of the Log Analytics workspace the queries run in.')
param workspaceId string

@description('Name shown in the portal.')
param displayName string = 'MFA phone-method prepopulation'

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook names must be GUIDs; stable per workspace so re-deploying updates it in place.
  name: guid(workspaceId, 'mfa-prepopulate-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: workspaceId
    serializedData: loadTextContent('../workbook/mfa-prepopulate.workbook.json')
  }
}

output id string = workbook.id
