//! The registry of trained models: every version with its description and metrics, and which one is promoted.

use time::OffsetDateTime;

use crate::{Backend, Result, Store, StoreError, storable};

/// Where a model version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Trained and audited, not in use.
    Candidate,
    /// The one the recommender uses. At most one version is promoted.
    Promoted,
    /// Was promoted, replaced since.
    Retired,
}

impl ModelStatus {
    /// The name used in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Candidate => "candidate",
            ModelStatus::Promoted => "promoted",
            ModelStatus::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Result<ModelStatus> {
        match text {
            "candidate" => Ok(ModelStatus::Candidate),
            "promoted" => Ok(ModelStatus::Promoted),
            "retired" => Ok(ModelStatus::Retired),
            other => Err(StoreError::Corrupt(format!(
                "unknown model status `{other}`"
            ))),
        }
    }
}

/// A model version to register.
#[derive(Clone, Debug, PartialEq)]
pub struct NewModel {
    /// Unique name of this version.
    pub version: String,
    /// Where its weights and description are (a directory).
    pub artifact: String,
    /// Its description (feature spec, metrics, training data range) as JSON.
    pub description: serde_json::Value,
}

/// A registered model version.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelEntry {
    /// Unique name of this version.
    pub version: String,
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Where its weights and description are.
    pub artifact: String,
    /// Its description and metrics.
    pub description: serde_json::Value,
    /// Where it stands.
    pub status: ModelStatus,
}

impl Store {
    /// Registers a new candidate version and audits it.
    pub async fn register_model(&self, new: NewModel, actor: &str) -> Result<ModelEntry> {
        let now = storable(self.clock.now());
        let description = crate::json(&new.description)?;
        on_backend!(self, pool, [
            "INSERT INTO models (version, created_at, artifact, description, status) VALUES (?, ?, ?, ?, 'candidate')",
            "INSERT INTO models (version, created_at, artifact, description, status) VALUES ($1, $2, $3, $4, 'candidate')"
        ], sql => {
            let mut tx = pool.begin().await?;
            sqlx::query(sql)
                .bind(&new.version)
                .bind(now)
                .bind(&new.artifact)
                .bind(&description)
                .execute(&mut *tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Invalid {
                        what: "model",
                        problems: vec![format!("version `{}` is already registered", new.version)],
                    },
                    other => other.into(),
                })?;
            let detail = serde_json::json!({"version": new.version, "artifact": new.artifact});
            crate::audit_in(&mut tx, now, actor, "register_model", None, &detail).await?;
            tx.commit().await?;
        });
        Ok(ModelEntry {
            version: new.version,
            created_at: now,
            artifact: new.artifact,
            description: new.description,
            status: ModelStatus::Candidate,
        })
    }

    /// Every registered version, oldest first.
    pub async fn models(&self) -> Result<Vec<ModelEntry>> {
        on_backend!(self, pool, [
            "SELECT * FROM models ORDER BY created_at, version",
            "SELECT * FROM models ORDER BY created_at, version"
        ], sql => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    use sqlx::Row;
                    let description: String = row.try_get("description")?;
                    let status: String = row.try_get("status")?;
                    Ok(ModelEntry {
                        version: row.try_get("version")?,
                        created_at: row.try_get("created_at")?,
                        artifact: row.try_get("artifact")?,
                        description: serde_json::from_str(&description)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        status: ModelStatus::parse(&status)?,
                    })
                })
                .collect()
        })
    }

    /// The version named `version`.
    pub async fn model(&self, version: &str) -> Result<Option<ModelEntry>> {
        Ok(self
            .models()
            .await?
            .into_iter()
            .find(|m| m.version == version))
    }

    /// The promoted version, if any.
    pub async fn promoted_model(&self) -> Result<Option<ModelEntry>> {
        Ok(self
            .models()
            .await?
            .into_iter()
            .find(|m| m.status == ModelStatus::Promoted))
    }

    /// Promotes `version` and retires the version promoted before it, in one transaction.
    pub async fn promote_model(&self, version: &str, actor: &str) -> Result<ModelEntry> {
        let now = storable(self.clock.now());
        let updated = on_backend!(self, pool, [
            "UPDATE models SET status = CASE WHEN version = ?1 THEN 'promoted' ELSE 'retired' END WHERE version = ?1 OR status = 'promoted'",
            "UPDATE models SET status = CASE WHEN version = $1 THEN 'promoted' ELSE 'retired' END WHERE version = $1 OR status = 'promoted'"
        ], sql => {
            let mut tx = pool.begin().await?;
            let exists = sqlx::query(if matches!(self.backend, Backend::Sqlite(_)) {
                "SELECT 1 FROM models WHERE version = ?"
            } else {
                "SELECT 1 FROM models WHERE version = $1"
            })
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            if exists {
                sqlx::query(sql).bind(version).execute(&mut *tx).await?;
                let detail = serde_json::json!({"version": version});
                crate::audit_in(&mut tx, now, actor, "promote_model", None, &detail).await?;
                tx.commit().await?;
            }
            exists
        });
        if !updated {
            return Err(StoreError::NotFound(format!("model {version}")));
        }
        self.model(version)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("model {version}")))
    }
}
