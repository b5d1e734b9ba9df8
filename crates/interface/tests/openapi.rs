//! The OpenAPI document is a contract (the dashboard's client is generated
//! from it): any change shows up as a snapshot diff to review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

fn spec() -> Value {
    serde_json::from_str(&interface::openapi_json()).unwrap()
}

#[test]
fn openapi_document_matches_the_snapshot() {
    insta::assert_json_snapshot!("openapi", spec());
}

#[test]
fn every_registered_route_is_documented_and_nothing_else() {
    let spec = spec();
    let paths = spec["paths"].as_object().unwrap();
    for (method, path) in interface::ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is registered but not in the OpenAPI document"
        );
    }
    let documented: usize = paths
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(
        documented,
        interface::ROUTES.len(),
        "the document lists operations that are not registered"
    );
}

#[test]
fn every_operation_documents_its_errors_with_the_error_body() {
    let spec = spec();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}: no tag"
            );
            assert!(op.get("security").is_some(), "{method} {path}: no security");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            for (status, r) in responses {
                if status.starts_with('4') || (status.starts_with('5') && path.starts_with("/api/"))
                {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}: not an ErrorBody"
                    );
                }
            }
            if path.starts_with("/api/v1/") {
                for status in ["429", "500", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: {status} undocumented"
                    );
                }
            }
            let secured = op["security"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_object().is_some_and(|o| !o.is_empty()));
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path}: 401 undocumented"
                );
            }
        }
    }
}

#[test]
fn both_security_schemes_are_declared() {
    let spec = spec();
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer_auth"]["type"], "http");
    assert_eq!(schemes["bearer_auth"]["scheme"], "bearer");
    assert_eq!(schemes["bearer_auth"]["bearerFormat"], "JWT");
    assert_eq!(schemes["api_key"]["type"], "apiKey");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
    assert_eq!(spec["info"]["title"], "AdScale API");
    assert!(
        spec["info"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_schema_reference_resolves() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
}
