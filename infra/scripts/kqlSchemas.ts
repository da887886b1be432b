/**
 * The tables the workbook's queries read, as Microsoft documents them, and the places a query
 * can run in. `kqlCheck.ts` type-checks every query against each place.
 *
 * Sources (Azure Monitor documentation):
 * - AppTraces: "Azure Monitor Logs reference - AppTraces"
 *   (learn.microsoft.com/azure/azure-monitor/reference/tables/apptraces).
 * - traces: the classic Application Insights table, as listed under "AppTraces - Legacy table:
 *   traces" in "Migrate to workspace-based Application Insights resources"
 *   (learn.microsoft.com/azure/azure-monitor/app/convert-classic-resource). The same page says
 *   the classic names (`traces`) are what the Application Insights resource's Logs accepts, and
 *   the workspace's own names (`AppTraces`) what the Log Analytics workspace accepts.
 * - AzureDiagnostics: "Azure Monitor Logs reference - AzureDiagnostics"
 *   (learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics) for the common
 *   columns; the runbook columns are the "Job streams" record of "Forward Azure Automation
 *   diagnostic logs to Azure Monitor"
 *   (learn.microsoft.com/azure/automation/automation-manage-send-joblogs-log-analytics). The
 *   first page also notes that the table only exists once some resource has sent logs in Azure
 *   Diagnostics mode.
 */
import type { KqlTable } from "./kqlCheck.js";

export const APP_TRACES: KqlTable = {
  name: "AppTraces",
  columns: {
    AppRoleInstance: "string",
    AppRoleName: "string",
    AppVersion: "string",
    _BilledSize: "real",
    ClientBrowser: "string",
    ClientCity: "string",
    ClientCountryOrRegion: "string",
    ClientIP: "string",
    ClientModel: "string",
    ClientOS: "string",
    ClientStateOrProvince: "string",
    ClientType: "string",
    IKey: "string",
    _IsBillable: "string",
    ItemCount: "int",
    Measurements: "dynamic",
    Message: "string",
    OperationId: "string",
    OperationName: "string",
    ParentId: "string",
    Properties: "dynamic",
    ReferencedItemId: "string",
    ReferencedType: "string",
    ResourceGUID: "string",
    _ResourceId: "string",
    SDKVersion: "string",
    SessionId: "string",
    SeverityLevel: "int",
    SourceSystem: "string",
    _SubscriptionId: "string",
    SyntheticSource: "string",
    TenantId: "string",
    TimeGenerated: "datetime",
    Type: "string",
    UserAccountId: "string",
    UserAuthenticatedId: "string",
    UserId: "string",
  },
};

export const TRACES: KqlTable = {
  name: "traces",
  columns: {
    appId: "string",
    application_Version: "string",
    appName: "string",
    client_Browser: "string",
    client_City: "string",
    client_CountryOrRegion: "string",
    client_IP: "string",
    client_Model: "string",
    client_OS: "string",
    client_StateOrProvince: "string",
    client_Type: "string",
    cloud_RoleInstance: "string",
    cloud_RoleName: "string",
    customDimensions: "dynamic",
    customMeasurements: "dynamic",
    iKey: "string",
    itemCount: "int",
    itemId: "string",
    itemType: "string",
    message: "string",
    operation_Id: "string",
    operation_Name: "string",
    operation_ParentId: "string",
    operation_SyntheticSource: "string",
    sdkVersion: "string",
    session_Id: "string",
    severityLevel: "int",
    timestamp: "datetime",
    user_AccountId: "string",
    user_AuthenticatedId: "string",
    user_Id: "string",
  },
};

/** The AzureDiagnostics columns every Azure service's rows share (no `_s`/`_g` suffix). */
const AZURE_DIAGNOSTICS_COMMON = {
  AdditionalFields: "dynamic",
  CallerIPAddress: "string",
  Category: "string",
  CorrelationId: "string",
  DurationMs: "long",
  Level: "string",
  Message: "string",
  OperationName: "string",
  OperationVersion: "string",
  Resource: "string",
  ResourceGroup: "string",
  ResourceId: "string",
  _ResourceId: "string",
  ResourceProvider: "string",
  ResourceType: "string",
  ResultDescription: "string",
  ResultSignature: "string",
  ResultType: "string",
  SourceSystem: "string",
  SubscriptionId: "string",
  TenantId: "string",
  TimeGenerated: "datetime",
  Type: "string",
} as const;

/** AzureDiagnostics as it is once Automation job streams reach the workspace. */
export const AZURE_DIAGNOSTICS: KqlTable = {
  name: "AzureDiagnostics",
  columns: {
    ...AZURE_DIAGNOSTICS_COMMON,
    Caller_s: "string",
    JobId_g: "guid",
    RunbookName_s: "string",
    StreamType_s: "string",
    Tenant_g: "guid",
  },
};

/**
 * AzureDiagnostics without the runbook columns. The reference page lists `RunbookName_s` and
 * `StreamType_s` among the columns every workspace's table has; the queries still read them with
 * `column_ifexists`, so they stay valid in a workspace where that does not hold, and this table
 * is how the check holds them to it.
 */
export const AZURE_DIAGNOSTICS_WITHOUT_RUNBOOK_COLUMNS: KqlTable = {
  name: "AzureDiagnostics",
  columns: AZURE_DIAGNOSTICS_COMMON,
};

/** A place a query runs in: its name (for messages) and the tables it has. */
export interface KqlContext {
  name: string;
  tables: readonly KqlTable[];
}

/**
 * Every documented table at once. A query must check clean here with no exception, so a typo in a
 * table name inside `union isfuzzy=true` (which elsewhere only warns) still fails.
 */
export const DOCUMENTED: KqlContext = {
  name: "all documented tables",
  tables: [APP_TRACES, TRACES, AZURE_DIAGNOSTICS],
};

/**
 * The places the workbook's queries really run. Each lacks some documented table, which a query
 * may only reach through `union isfuzzy=true`.
 */
export const DEPLOYMENTS: readonly KqlContext[] = [
  { name: "Log Analytics workspace", tables: [APP_TRACES, AZURE_DIAGNOSTICS] },
  {
    name: "Log Analytics workspace whose AzureDiagnostics has no runbook columns",
    tables: [APP_TRACES, AZURE_DIAGNOSTICS_WITHOUT_RUNBOOK_COLUMNS],
  },
  { name: "Log Analytics workspace without AzureDiagnostics", tables: [APP_TRACES] },
  { name: "Application Insights resource (classic table names)", tables: [TRACES] },
];
