//! Audit entries for changes that touch no patch row: a server switched to or from shadow mode, for example. The
//! audit trail is where an operator looks for who changed what and when, so those changes are written there too.

use crate::{Backend, Result, Store, audit_in, storable};

impl Store {
    /// Records that `actor` did `action` (with `detail`) in the audit trail, as one entry naming no patch. For
    /// changes that live outside the database (a server's mode), so that the trail still says who did it and when.
    pub async fn audit_event(
        &self,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let now = storable(self.clock.now());
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                audit_in(&mut tx, now, actor, action, None, detail).await?;
                tx.commit().await?;
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                audit_in(&mut tx, now, actor, action, None, detail).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
