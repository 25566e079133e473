import ArgumentParser
import ArxivSource
import Curation
import Mail
import PaperPostCore
import PaperPostStore
import PostgresStore

/// The exit codes scripts and operators rely on.
enum ExitStatus: Int32 {
    case success = 0
    case badInput = 1
    case failure = 2
    case partial = 3

    /// Input the operator can correct is 1; anything the system failed at is 2.
    static func `for`(_ error: any Error) -> ExitStatus {
        switch error {
        case is InputError, is ImportError, is ConfigurationError, is ValidationError, is DKIMError:
            return .badInput
        case is CurationError:
            return .badInput
        case let error as SendError:
            switch error {
            case .noDigest: return .badInput
            case .logStopped: return .failure
            }
        case let error as FetchError:
            switch error {
            case .unreadableFile, .dayNotInFeed: return .badInput
            case .badDocument(let source, _): return source.hasPrefix("http") ? .failure : .badInput
            case .unreachable: return .failure
            }
        case let error as StoreError:
            switch error {
            case .notFound, .alreadyExists, .foreignDatabase: return .badInput
            case .cannotOpen, .database: return .failure
            }
        case let error as PostgresStoreError:
            switch error {
            case .badURL, .foreignDatabase, .notEmpty, .sendRunning: return .badInput
            case .cannotConnect, .schemaMismatch, .countMismatch, .query: return .failure
            }
        default:
            return .failure
        }
    }
}

extension ExitCode {
    static let partial = ExitCode(ExitStatus.partial.rawValue)
}
