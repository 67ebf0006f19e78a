import Foundation
import Vapor

/// What a route requires of the caller. `AuthMiddleware` enforces it before the handler runs;
/// handlers add environment-level checks (`Request.authorize(_:environment:)`) on top.
enum Access: Equatable, Sendable, CustomStringConvertible {
    /// Anyone, signed in or not (health, sign-in itself).
    case open
    /// Any signed-in user; the handler checks what the user may do with the specific object
    /// (their own profile and tokens; starting a task checks the plugin's permission).
    case signedIn
    /// A user holding the permission for at least one environment.
    case permission(Permission)

    static let userInfoKey = "ferry.access"

    var description: String {
        switch self {
        case .open: return "open"
        case .signedIn: return "signed-in"
        case .permission(let p): return p.rawValue
        }
    }
}

/// The access policy: one entry for every route and method, in one table. The switch is
/// exhaustive, so a new route can't be added without deciding who may call it; the permission
/// matrix test calls every registered route as every role against this table.
extension SiteURL {
    func access(_ method: HTTPMethod) -> Access {
        let write = method != .GET && method != .HEAD
        switch self {
        case .healthz, .readyz, .login, .ssoStart, .ssoCallback:
            return .open
        case .metrics:
            return .permission(.metricsRead)
        case .home, .logout, .profile, .profilePassword, .profileTokens, .profileTokenRevoke:
            return .signedIn
        case .dashboards, .dashboardPage, .charts, .datasets:
            return .permission(.inventoryRead)
        case .environments:
            return .permission(write ? .environmentsWrite : .environmentsRead)
        case .environmentNew, .environmentEdit, .environmentUpdate, .environmentDelete:
            return .permission(.environmentsWrite)
        case .environmentTest:
            return .permission(.environmentsRead)
        case .environmentSync:
            return .permission(.tasksRun)
        case .tasksPage:
            return write ? .signedIn : .permission(.tasksRead)
        case .taskPage, .wsTasks, .wsTask, .activityPage:
            return .permission(.tasksRead)
        case .taskCancelPage:
            return .permission(.tasksCancel)
        case .taskInputPage:
            return .signedIn
        case .schedulesPage:
            return .permission(write ? .schedulesWrite : .tasksRead)
        case .scheduleTogglePage, .scheduleDeletePage:
            return .permission(.schedulesWrite)
        case .promotePage, .planRemapPage:
            return .permission(.promotePlan)
        case .planPage, .planApplyPage, .promotionRollbackPage:
            // A plan may be a promotion's or a restore's: the handler judges the stored plan
            // (`readablePlan`, `authorizeApply`, `authorizeRollback`).
            return .signedIn
        case .backupsPage, .backupsEnvironmentPage, .backupDiffPage, .backupPage, .backupDownloadPage:
            return .permission(.inventoryRead)
        case .backupRunPage, .backupUploadPage, .backupPolicyPage, .backupPinPage, .backupDeletePage, .backupVerifyPage:
            return .permission(.backupRun)
        case .backupRestorePage:
            return .permission(.restoreRun)
        case .gitPage, .gitHistoryPage, .gitDiffPage:
            return .permission(.inventoryRead)
        case .gitActionPage:
            // Snapshot and drift need git:write on the environment, push and pull on all of them:
            // the handler judges the action it is asked for.
            return .permission(.gitWrite)
        case .gitDeployPage:
            return .permission(.promotePlan)
        case .gitRemotePage:
            return .permission(.settingsAdmin)
        case .healthPage, .healthCheckPage:
            return .permission(.inventoryRead)
        case .healthRunPage:
            return .permission(.healthRun)
        case .healthPoliciesPage, .healthPolicyPage:
            // Writes are judged on the environment named and the stored policy's
            // (`HealthPoliciesAPI.authorizeSave`); naming channels needs settings:admin too.
            return .permission(write ? .healthRun : .inventoryRead)
        case .healthPolicyDeletePage, .healthPolicyRunPage:
            return .permission(.healthRun)
        case .promotionsPage:
            return .permission(.tasksRead)
        case .usersPage, .userPage, .rolesPage, .rolePage, .roleDeletePage:
            return .permission(.usersAdmin)
        case .auditPage:
            return .permission(.auditRead)
        case .ssoSettingsPage, .ssoTestPage:
            return .permission(.settingsAdmin)
        case .channelsPage, .channelPage, .channelDeletePage, .llmProvidersPage, .llmProviderPage, .llmProviderDeletePage:
            return .permission(.settingsAdmin)
        case .reportsPage, .reportPage:
            // A report is shown only when the user may read every environment its task touched
            // (the handler judges the stored report).
            return .permission(.tasksRead)
        case .api(let api):
            return api.access(write: write)
        }
    }
}

extension SiteURL.API {
    func access(write: Bool) -> Access {
        switch self {
        case .openapi, .version:
            return .open
        case .me, .tokens, .token:
            return .signedIn
        case .environments, .environment:
            return .permission(write ? .environmentsWrite : .environmentsRead)
        case .environmentTest:
            return .permission(.environmentsRead)
        case .environmentTestUnsaved:
            return .permission(.environmentsWrite)
        case .environmentSync:
            return .permission(.tasksRun)
        case .inventory:
            return .permission(.inventoryRead)
        case .plugins, .task, .taskLogs:
            return .permission(.tasksRead)
        case .tasks:
            return write ? .signedIn : .permission(.tasksRead)
        case .taskCancel:
            return .permission(.tasksCancel)
        case .taskInput:
            return .signedIn
        case .schedules, .schedule:
            return .permission(write ? .schedulesWrite : .tasksRead)
        case .promotionPlan, .mappings, .mapping, .mappingSuggestions:
            return .permission(.promotePlan)
        case .plan, .planApply, .promotionRollback:
            // A plan may be a promotion's or a restore's: the handler judges the stored plan.
            return .signedIn
        case .backups:
            return .permission(write ? .backupRun : .inventoryRead)
        case .backup:
            return .permission(write ? .backupRun : .inventoryRead)
        case .backupAssets, .backupDownload, .backupsDiff:
            return .permission(.inventoryRead)
        case .backupPin, .backupsUpload, .backupsVerify:
            return .permission(.backupRun)
        case .backupPolicy:
            return .permission(write ? .backupRun : .inventoryRead)
        case .restores:
            return .permission(.restoreRun)
        case .gitDashboards, .gitHistory, .gitDiff:
            return .permission(.inventoryRead)
        case .gitSnapshot, .gitDrift, .gitPush, .gitPull:
            return .permission(.gitWrite)
        case .gitDeploy:
            return .permission(.promotePlan)
        case .gitRemote:
            return .permission(.settingsAdmin)
        case .healthChecks:
            return .permission(write ? .healthRun : .inventoryRead)
        case .healthCheck, .healthScreenshot:
            return .permission(.inventoryRead)
        case .healthPolicies, .healthPolicy:
            // Writes are judged on the environment named and the one stored (`HealthPoliciesAPI.save`).
            return .permission(write ? .healthRun : .inventoryRead)
        case .healthPolicyRun:
            return .permission(.healthRun)
        case .notificationChannels, .notificationChannel, .llmProviders, .llmProvider:
            return .permission(.settingsAdmin)
        case .reports, .report:
            // Listed and shown only for the environments the caller may read (the handler
            // judges each stored report).
            return .permission(.tasksRead)
        case .promotions, .promotion, .promotionHistory:
            return .permission(.tasksRead)
        case .users, .user, .roles, .role:
            return .permission(.usersAdmin)
        case .audit:
            return .permission(.auditRead)
        case .ssoSettings:
            return .permission(.settingsAdmin)
        }
    }
}
