/// Something a person typed or a file contained is not acceptable. Each case names the value,
/// so that the message can be shown as it is (`paperpost: unknown arXiv category 'cs.XX'`).
public enum InputError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String, reason: String)
    case unknownCategory(String)
    case invalidLanguage(String)
    case invalidStatus(String)
    case invalidDate(String)
    case invalidValue(field: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .invalidAddress(let address, let reason):
            "invalid email address '\(address)': \(reason)"
        case .unknownCategory(let code):
            "unknown arXiv category '\(code)' (see 'paperpost categories' for the list)"
        case .invalidLanguage(let value):
            "invalid language '\(value)': use zh or en"
        case .invalidStatus(let value):
            "invalid status '\(value)': use one of "
                + SubscriberStatus.allCases.map(\.rawValue).joined(separator: ", ")
        case .invalidDate(let value):
            "invalid date '\(value)': use YYYY-MM-DD"
        case .invalidValue(let field, let value, let reason):
            "invalid \(field) '\(value)': \(reason)"
        }
    }
}
