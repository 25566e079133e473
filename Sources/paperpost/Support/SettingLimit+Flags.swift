import ArgumentParser
import PaperPostCore

extension SettingLimit {
    /// Checks a flag against the limits of the variable it overrides (or its own), so that
    /// both refuse the same values; out of range is a usage error.
    func validate(_ value: Double?, flag: String) throws {
        guard let value else { return }
        try validate(value, flag: flag, as: nil)
    }

    func validate(_ value: Int?, flag: String) throws {
        guard let value else { return }
        try validate(Double(value), flag: flag, as: String(value))
    }

    private func validate(_ value: Double, flag: String, as text: String?) throws {
        do {
            _ = try check(value, name: flag, as: text)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
