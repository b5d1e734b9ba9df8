//! The organization's own settings: its time zone (UTC unless chosen at
//! registration or changed later), readable by every member, changed by
//! admins and owners only, and never another organization's.

use actix_web::http::Method;
use adscale_tests::{Cred, TestApp, call, get, on_both_backends, register};
use serde_json::json;

use crate::identity::key_with_role;

on_both_backends!(
    a_new_organization_is_in_utc_unless_registered_with_a_zone,
    registration_with_a_bad_zone_is_refused_and_stores_nothing,
    admins_change_the_zone_and_every_reader_sees_it,
    analysts_and_viewers_cannot_change_the_organization,
    bad_fields_are_all_refused_and_leave_the_organization_unchanged,
    one_organizations_change_never_reaches_another,
);

async fn a_new_organization_is_in_utc_unless_registered_with_a_zone(t: TestApp) {
    let app = t.service().await;
    let plain = register(&app, "Plain").await;
    let org = get(&app, &plain.cred(), "/api/v1/organization").await;
    assert_eq!(org.status, 200, "{}", org.body);
    assert_eq!(org.data()["id"], json!(plain.org_id));
    assert_eq!(org.data()["name"], json!("Plain"));
    assert_eq!(org.data()["timezone"], json!("UTC"));
    assert!(org.data()["created_at"].is_string(), "{}", org.body);

    let r = call(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        &Cred::None,
        Some(json!({"organization_name": "Zoned", "timezone": "America/Sao_Paulo", "name": "Ana", "email": "ana@zoned.example.com", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.data()["organization"]["timezone"],
        json!("America/Sao_Paulo")
    );
    let token = Cred::Bearer(r.data()["access_token"].as_str().unwrap().to_owned());
    let org = get(&app, &token, "/api/v1/organization").await;
    assert_eq!(org.data()["timezone"], json!("America/Sao_Paulo"));
}

async fn registration_with_a_bad_zone_is_refused_and_stores_nothing(t: TestApp) {
    let app = t.service().await;
    let body = json!({"organization_name": "Nowhere", "timezone": "Not a zone", "name": "Ana", "email": "ana@nowhere.example.com", "password": "correct horse battery"});
    let r = call(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        &Cred::None,
        Some(body.clone()),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    let fields = r.body["details"]["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["timezone"],
        "{fields:?}"
    );
    // Nothing was stored: the same e-mail registers afterwards.
    let mut fixed = body;
    fixed["timezone"] = json!("Europe/Lisbon");
    let again = call(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        &Cred::None,
        Some(fixed),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.body);
}

async fn admins_change_the_zone_and_every_reader_sees_it(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let admin = key_with_role(&app, &owner, "admin").await;
    let viewer = key_with_role(&app, &owner, "viewer").await;

    let r = call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &admin,
        Some(json!({"timezone": "America/Sao_Paulo"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["timezone"], json!("America/Sao_Paulo"));
    assert_eq!(r.data()["name"], json!("Acme"), "absent fields stay");

    let org = get(&app, &viewer, "/api/v1/organization").await;
    assert_eq!(org.data()["timezone"], json!("America/Sao_Paulo"));
    let me = get(&app, &owner.cred(), "/api/v1/me").await;
    assert_eq!(
        me.data()["organization"]["timezone"],
        json!("America/Sao_Paulo")
    );

    let r = call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &owner.cred(),
        Some(json!({"name": "Acme Brasil"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.data()["name"], &r.data()["timezone"]),
        (&json!("Acme Brasil"), &json!("America/Sao_Paulo"))
    );

    let log = get(
        &app,
        &owner.cred(),
        "/api/v1/audit-log?entity_type=organization",
    )
    .await;
    let entries = log.data().as_array().unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let first = entries
        .iter()
        .find(|e| e["after"]["name"] == json!("Acme"))
        .unwrap();
    assert_eq!(first["action"], json!("organization.update"));
    assert_eq!(
        first["entity"],
        json!({"type": "organization", "id": owner.org_id})
    );
    assert_eq!(first["before"], json!({"name": "Acme", "timezone": "UTC"}));
    assert_eq!(
        first["after"],
        json!({"name": "Acme", "timezone": "America/Sao_Paulo"})
    );
}

async fn analysts_and_viewers_cannot_change_the_organization(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    for role in ["analyst", "viewer"] {
        let cred = key_with_role(&app, &owner, role).await;
        assert_eq!(
            get(&app, &cred, "/api/v1/organization").await.status,
            200,
            "{role} reads"
        );
        call(
            &app,
            Method::PATCH,
            "/api/v1/organization",
            &cred,
            Some(json!({"timezone": "Asia/Tokyo"})),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    }
    let org = get(&app, &owner.cred(), "/api/v1/organization").await;
    assert_eq!(org.data()["timezone"], json!("UTC"));
    call(&app, Method::GET, "/api/v1/organization", &Cred::None, None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

async fn bad_fields_are_all_refused_and_leave_the_organization_unchanged(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let r = call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &owner.cred(),
        Some(json!({"name": "  ", "timezone": "Europe/Lisbon; DROP"})),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    let fields = r.body["details"]["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["name", "timezone"],
        "{fields:?}"
    );
    // A good field beside a bad one is not written either.
    call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &owner.cred(),
        Some(json!({"name": "Renamed", "timezone": ""})),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    // A well-formed name the tz database does not know (a typo) is refused,
    // not read as UTC.
    let typo = call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &owner.cred(),
        Some(json!({"timezone": "America/Sao_Pablo"})),
    )
    .await;
    typo.assert_error(422, "VALIDATION_FAILED");
    assert!(typo.body["details"]["fields"]["timezone"].is_string());
    let org = get(&app, &owner.cred(), "/api/v1/organization").await;
    assert_eq!(
        (&org.data()["name"], &org.data()["timezone"]),
        (&json!("Acme"), &json!("UTC"))
    );
}

async fn one_organizations_change_never_reaches_another(t: TestApp) {
    let app = t.service().await;
    let a = register(&app, "Alpha").await;
    let b = register(&app, "Beta").await;
    let r = call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &a.cred(),
        Some(json!({"name": "Alpha Tokyo", "timezone": "Asia/Tokyo"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["id"], json!(a.org_id));

    let other = get(&app, &b.cred(), "/api/v1/organization").await;
    assert_eq!(other.data()["id"], json!(b.org_id));
    assert_eq!(
        (&other.data()["name"], &other.data()["timezone"]),
        (&json!("Beta"), &json!("UTC"))
    );
    let log = get(
        &app,
        &b.cred(),
        "/api/v1/audit-log?entity_type=organization",
    )
    .await;
    assert_eq!(log.data(), &json!([]), "another organization's change");
}
