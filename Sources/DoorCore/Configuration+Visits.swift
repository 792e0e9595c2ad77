extension Configuration {
    /// The `visits:` section: each key typed and range-checked at its line, then `VisitSettings.validate()`
    /// for what only the keys together can tell (a size bound too small for one recording), reported at the
    /// line of the key it names.
    mutating func readVisits(_ s: ConfigSection) throws(ConfigurationError) {
        if let value = try s.bool("enabled") { visits.enabled = value }
        let bytes = Int(VisitSettings.maxBytesRange.lowerBound)...Int(VisitSettings.maxBytesRange.upperBound)
        if let value = try s.int("max_bytes", in: bytes, unit: "bytes") { visits.maxBytes = Int64(value) }
        if let value = try s.int("max_age_days", in: VisitSettings.maxAgeRange, unit: "days") { visits.maxAgeDays = value }
        if let value = try s.int("clip_seconds", in: VisitSettings.clipSecondsRange, unit: "seconds") {
            visits.clipSeconds = value
        }
        if let value = try s.bool("record_calls") { visits.recordCalls = value }
        if let value = try s.int("call_max_seconds", in: VisitSettings.callMaxSecondsRange, unit: "seconds") {
            visits.callMaxSeconds = value
        }
        if let value = try s.int("max_phones", in: VisitSettings.maxPhonesRange, unit: "phones") { visits.maxPhones = value }
        do {
            try visits.validate(section: "visits")
        } catch {
            let name = String(error.key.dropFirst("visits.".count))
            throw ConfigurationError(error.code, key: error.key, line: s.line(name), error.message)
        }
    }
}
