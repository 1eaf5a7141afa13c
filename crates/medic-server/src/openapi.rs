//! The OpenAPI document, generated from the handlers' annotations and the types' schemas.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "medic", description = "medic: classify failed Spark runs, remediate them (recommend a configuration, store it as a scoped patch, decide the retry), and the ConfigService: scoped Spark configuration patches, resolution, run reports, history and audit."),
    paths(
        routes::system::healthz,
        routes::system::metrics,
        routes::system::audit,
        routes::patches::create,
        routes::patches::list,
        routes::patches::show,
        routes::patches::revoke,
        routes::config::resolve,
        routes::config::report_run,
        routes::config::attempts,
        routes::recommend::recommend,
        routes::recommend::classify,
        routes::remediate::remediate,
        routes::mode::show,
        routes::mode::set,
        routes::history::import,
    ),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's OpenAPI 3.1 document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}
