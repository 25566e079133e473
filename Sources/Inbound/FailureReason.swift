/// Why a message was not delivered, as far as the bounce says. The names are the ones
/// sisimai uses, so its verdicts and ours can be compared reason by reason.
public enum FailureReason: String, Sendable, Hashable, Codable, CaseIterable {
    case userUnknown = "userunknown"
    case hostUnknown = "hostunknown"
    case hasMoved = "hasmoved"
    case notAccept = "notaccept"
    case mailboxFull = "mailboxfull"
    case suspend
    case expired
    case filtered
    case rejected
    case blocked
    case policyViolation = "policyviolation"
    case spamDetected = "spamdetected"
    case virusDetected = "virusdetected"
    case securityError = "securityerror"
    case authFailure = "authfailure"
    case badReputation = "badreputation"
    case requirePTR = "requireptr"
    case tooManyConnections = "toomanyconn"
    case speeding
    case noRelaying = "norelaying"
    case messageTooBig = "mesgtoobig"
    case exceedLimit = "exceedlimit"
    case contentError = "contenterror"
    case notCompliantRFC = "notcompliantrfc"
    case systemError = "systemerror"
    case systemFull = "systemfull"
    case networkError = "networkerror"
    case mailerError = "mailererror"
    case syntaxError = "syntaxerror"
    case onHold = "onhold"
    case undefined
    case delivered
    case vacation
    case feedback

    /// Whether the address itself is bad: the bounces that count towards removing a reader.
    /// Everything else (a full mailbox, a policy block, a timeout) says nothing about whether
    /// the address will work tomorrow.
    public func isHard(permanent: Bool) -> Bool {
        switch self {
        case .userUnknown, .hostUnknown, .hasMoved: true
        case .notAccept: permanent
        default: false
        }
    }

    /// The code reported when the bounce carries no enhanced status code: `X.0.9NN`, outside
    /// RFC 3463's registry on purpose (the `.0.` says "not stated"), one per reason, as sisimai
    /// reports them, so that an operator can still sort and count by code.
    func inferredStatus(permanent: Bool) -> String {
        let detail: Int = switch self {
        case .undefined: 900
        case .onHold: 901
        case .filtered: 910
        case .userUnknown: 911
        case .hostUnknown: 912
        case .hasMoved: 916
        case .rejected: 918
        case .noRelaying: 920
        case .suspend: 921
        case .mailboxFull: 922
        case .exceedLimit: 923
        case .messageTooBig: 924
        case .authFailure: 925
        case .badReputation: 926
        case .systemError: 930
        case .systemFull: 931
        case .notAccept: 932
        case .mailerError: 939
        case .networkError: 940
        case .tooManyConnections: 945
        case .speeding: 946
        case .expired: 947
        case .securityError: 950
        case .policyViolation: 951
        case .contentError: 960
        case .notCompliantRFC: 962
        case .syntaxError: 970
        case .blocked: 971
        case .requirePTR: 973
        case .spamDetected: 980
        case .virusDetected: 981
        case .delivered, .vacation, .feedback: 0
        }
        if detail == 0 { return "" }
        return "\(permanent ? 5 : 4).0.\(detail)"
    }
}
