import GRDB

extension PaperPostDatabase {
    /// The schema, one migration per change. Migrations are never edited once landed: a
    /// database in the field has already run them.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1: subscribers") { db in
            try db.create(table: "subscriber") { t in
                t.autoIncrementedPrimaryKey("id")
                // As the person typed it; NULL once forgotten.
                t.column("email", .text)
                // What addresses are compared by (see EmailAddress.key); "sha256:…" once forgotten.
                t.column("email_key", .text).notNull().unique()
                t.column("name", .text)
                t.column("language", .text).notNull()
                    .check { ["zh", "en"].contains($0) }
                t.column("status", .text).notNull()
                    .check { ["pending", "active", "paused", "unsubscribed", "bounced"].contains($0) }
                // Signs this subscriber's links; rotating it revokes every link already mailed.
                t.column("secret", .text).notNull()
                t.column("bounce_count", .integer).notNull().defaults(to: 0)
                t.column("created_at", .datetime).notNull()
                t.column("confirmed_at", .datetime)
                t.column("unsubscribed_at", .datetime)
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "subscriber_by_status", on: "subscriber", columns: ["status"])

            try db.create(table: "subscriber_category") { t in
                t.column("subscriber_id", .integer).notNull()
                    .references("subscriber", onDelete: .cascade)
                t.column("category", .text).notNull()
                t.column("position", .integer).notNull()
                t.primaryKey(["subscriber_id", "category"])
            }
            try db.create(index: "subscriber_category_by_category", on: "subscriber_category", columns: ["category"])

            try db.create(table: "subscriber_event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("subscriber_id", .integer).notNull()
                    .references("subscriber", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("source", .text).notNull()
                    .check { ["cli", "import", "web", "link", "bounce"].contains($0) }
                t.column("detail", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "subscriber_event_by_subscriber", on: "subscriber_event", columns: ["subscriber_id"])
        }
        return migrator
    }
}
