import HTTPTypes

extension HTTPFields {
    /// `self[name]` without the subscript's join when the field comes once (nearly always): the
    /// subscript builds a joined string for every read. Repeated fields are joined as it joins them.
    func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
