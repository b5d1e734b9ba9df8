use actix_web::http::Method;
use adscale_tests::{Cred, TestApp, call, on_both_backends, register};
use serde_json::json;

on_both_backends!(
    register_login_me_refresh_logout,
    reused_refresh_token_revokes_the_family,
    rejects_bad_registrations_with_field_errors,
    roles_gate_reads_writes_and_management,
    members_can_be_added_changed_and_removed_but_not_the_last_owner,
    api_keys_authenticate_until_revoked,
);

async fn register_login_me_refresh_logout(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;

    let me = call(&app, Method::GET, "/api/v1/me", &owner.cred(), None).await;
    assert_eq!(me.data()["organization"]["id"], json!(owner.org_id));
    assert_eq!(me.data()["user"]["email"], json!(owner.email));
    assert_eq!(me.data()["role"], json!("owner"));

    let login = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        &Cred::None,
        Some(json!({"email": owner.email, "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.data()["token_type"], json!("Bearer"));
    let refresh = login.data()["refresh_token"].as_str().unwrap().to_owned();

    let wrong = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        &Cred::None,
        Some(json!({"email": owner.email, "password": "wrong password!!"})),
    )
    .await;
    wrong.assert_error(401, "UNAUTHORIZED");
    let unknown = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        &Cred::None,
        Some(json!({"email": "nobody@example.com", "password": "whatever123"})),
    )
    .await;
    unknown.assert_error(401, "UNAUTHORIZED");
    assert_eq!(
        wrong.body["message"], unknown.body["message"],
        "no account enumeration"
    );

    let rotated = call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        &Cred::None,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let next = rotated.data()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(next, refresh);
    let access = rotated.data()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, Method::GET, "/api/v1/me", &Cred::Bearer(access), None)
            .await
            .status,
        200
    );

    let out = call(
        &app,
        Method::POST,
        "/api/v1/auth/logout",
        &Cred::None,
        Some(json!({"refresh_token": next})),
    )
    .await;
    assert_eq!(out.status, 204);
    call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        &Cred::None,
        Some(json!({"refresh_token": next})),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");

    call(&app, Method::GET, "/api/v1/me", &Cred::None, None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    call(
        &app,
        Method::GET,
        "/api/v1/me",
        &Cred::Bearer("not.a.jwt".into()),
        None,
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
}

async fn reused_refresh_token_revokes_the_family(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Reuse").await;
    let first = owner.refresh_token.clone();
    let r = call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        &Cred::None,
        Some(json!({"refresh_token": first})),
    )
    .await;
    let second = r.data()["refresh_token"].as_str().unwrap().to_owned();
    // An attacker replays the spent token: refused, and the legitimate successor dies with it.
    call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        &Cred::None,
        Some(json!({"refresh_token": first})),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        &Cred::None,
        Some(json!({"refresh_token": second})),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
}

async fn rejects_bad_registrations_with_field_errors(t: TestApp) {
    let app = t.service().await;
    let r = call(&app, Method::POST, "/api/v1/auth/register", &Cred::None, Some(json!({"organization_name": "", "name": "A", "email": "not-an-email", "password": "short"}))).await;
    r.assert_error(422, "VALIDATION_FAILED");
    let fields = &r.body["details"]["fields"];
    for f in ["organization_name", "email", "password"] {
        assert!(fields[f].is_string(), "{f} missing in {fields}");
    }
    let owner = register(&app, "Dup").await;
    let dup = call(&app, Method::POST, "/api/v1/auth/register", &Cred::None, Some(json!({"organization_name": "Other", "name": "B", "email": owner.email, "password": "correct horse battery"}))).await;
    dup.assert_error(409, "EMAIL_TAKEN");

    let req = actix_web::test::TestRequest::post()
        .uri("/api/v1/auth/register")
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json")
        .to_request();
    let resp = actix_web::test::call_service(&app, req).await;
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = actix_web::test::read_body_json(resp).await;
    assert_eq!(body["error"], json!(true));
}

/// Adds a member with a role and returns a bearer credential for them (via an API key of that role).
pub(crate) async fn key_with_role<S, B>(app: &S, owner: &adscale_tests::Tenant, role: &str) -> Cred
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = call(
        app,
        Method::POST,
        "/api/v1/api-keys",
        &owner.cred(),
        Some(json!({"name": format!("{role} key"), "role": role})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    Cred::ApiKey(r.data()["key"].as_str().unwrap().to_owned())
}

async fn roles_gate_reads_writes_and_management(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Roles").await;
    let viewer = key_with_role(&app, &owner, "viewer").await;
    let analyst = key_with_role(&app, &owner, "analyst").await;
    let admin = key_with_role(&app, &owner, "admin").await;
    let account = json!({"name": "Main", "platform": "meta", "external_id": "act_1", "currency": "BRL", "timezone": "America/Sao_Paulo"});

    for (cred, can_write) in [(&viewer, false), (&analyst, false), (&admin, true)] {
        assert_eq!(
            call(&app, Method::GET, "/api/v1/ad-accounts", cred, None)
                .await
                .status,
            200
        );
        let w = call(
            &app,
            Method::POST,
            "/api/v1/ad-accounts",
            cred,
            Some(account.clone()),
        )
        .await;
        if can_write {
            assert_eq!(w.status, 201, "{}", w.body);
        } else {
            w.assert_error(403, "FORBIDDEN");
        }
        assert_eq!(
            call(&app, Method::GET, "/api/v1/members", cred, None)
                .await
                .status,
            200
        );
        call(
            &app,
            Method::POST,
            "/api/v1/api-keys",
            cred,
            Some(json!({"name": "x", "role": "viewer"})),
        )
        .await
        .assert_error(403, "FORBIDDEN");
        call(
            &app,
            Method::POST,
            "/api/v1/members",
            cred,
            Some(json!({"email": "new@example.com", "name": "N", "role": "viewer"})),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    }
}

async fn members_can_be_added_changed_and_removed_but_not_the_last_owner(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Team").await;
    let add = call(
        &app,
        Method::POST,
        "/api/v1/members",
        &owner.cred(),
        Some(json!({"email": "Ana@Example.com", "name": "Ana", "role": "analyst"})),
    )
    .await;
    assert_eq!(add.status, 201, "{}", add.body);
    let ana = add.data()["user_id"].as_str().unwrap().to_owned();
    assert_eq!(add.data()["email"], json!("ana@example.com"));
    call(
        &app,
        Method::POST,
        "/api/v1/members",
        &owner.cred(),
        Some(json!({"email": "ana@example.com", "role": "viewer"})),
    )
    .await
    .assert_error(409, "ALREADY_MEMBER");

    let list = call(&app, Method::GET, "/api/v1/members", &owner.cred(), None).await;
    assert_eq!(list.data().as_array().unwrap().len(), 2);

    let ch = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/members/{ana}"),
        &owner.cred(),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(ch.status, 200, "{}", ch.body);
    assert_eq!(ch.data()["role"], json!("admin"));

    let me = &owner.user_id;
    call(
        &app,
        Method::PATCH,
        &format!("/api/v1/members/{me}"),
        &owner.cred(),
        Some(json!({"role": "viewer"})),
    )
    .await
    .assert_error(409, "LAST_OWNER");
    call(
        &app,
        Method::DELETE,
        &format!("/api/v1/members/{me}"),
        &owner.cred(),
        None,
    )
    .await
    .assert_error(409, "LAST_OWNER");

    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/api/v1/members/{ana}"),
            &owner.cred(),
            None
        )
        .await
        .status,
        204
    );
    call(
        &app,
        Method::DELETE,
        &format!("/api/v1/members/{ana}"),
        &owner.cred(),
        None,
    )
    .await
    .assert_error(404, "MEMBER_NOT_FOUND");
    let list = call(&app, Method::GET, "/api/v1/members", &owner.cred(), None).await;
    assert_eq!(list.data().as_array().unwrap().len(), 1);
}

async fn api_keys_authenticate_until_revoked(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Keys").await;
    let created = call(
        &app,
        Method::POST,
        "/api/v1/api-keys",
        &owner.cred(),
        Some(json!({"name": "warehouse sync", "role": "viewer"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.data()["key"].as_str().unwrap().to_owned();
    let id = created.data()["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(created.data()["prefix"].as_str().unwrap()));

    let me = call(
        &app,
        Method::GET,
        "/api/v1/me",
        &Cred::ApiKey(key.clone()),
        None,
    )
    .await;
    assert_eq!(me.data()["organization"]["id"], json!(owner.org_id));
    assert_eq!(me.data()["role"], json!("viewer"));

    let list = call(&app, Method::GET, "/api/v1/api-keys", &owner.cred(), None).await;
    let listed = list.data().as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].get("key").is_none(),
        "the secret is shown only once"
    );
    assert!(!list.body.to_string().contains(&key));

    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            &owner.cred(),
            None
        )
        .await
        .status,
        204
    );
    call(&app, Method::GET, "/api/v1/me", &Cred::ApiKey(key), None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    call(
        &app,
        Method::GET,
        "/api/v1/me",
        &Cred::ApiKey("ask_forged".into()),
        None,
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
}
