enum SlotMarker { static func isMarker(_ scalar: Unicode.Scalar) -> Bool { scalar == "\u{E000}" || scalar == "\u{E001}" } }
