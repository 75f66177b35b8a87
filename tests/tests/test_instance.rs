//! Instance detection (every source, the precedence order) and validation per
//! environment, including the exact messages an operator reads.

use typed_id::instance::{
    DEFAULT_ALLOW_INSECURE_VAR, DetectError, Detection, DetectionSource, EnvSource, Environment,
    KNOWN_DEFAULTS, MapEnv, OptInError, OsEnv, RefusalReason, ValidationWarning, Validator, detect,
    validate,
};

const OVERRIDE: &str = "APP_INSTANCE_ID";

/// Every platform's variables at once, so each test removes the ones above the source
/// it expects.
fn all_platforms() -> Vec<(&'static str, &'static str)> {
    vec![
        (OVERRIDE, "orders-eu1-3"),
        ("FLY_ALLOC_ID", "3d8d9e3a2b7e48"),
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
        ("HOSTNAME", "orders-api-7d9f8b6c4-x2x9k"),
        (
            "ECS_CONTAINER_METADATA_URI_V4",
            "http://169.254.170.2/v4/a1b2c3d4e5f6-1234567890",
        ),
        ("K_REVISION", "orders-00042-xaz"),
    ]
}

fn env_without(skip: &[&str]) -> MapEnv {
    let mut env = MapEnv::new().hostname("build-box").random(0xa7f3_c92d);
    for (k, v) in all_platforms() {
        if !skip.contains(&k) {
            env = env.var(k, v);
        }
    }
    env
}

#[test]
fn precedence_order_first_match_wins() {
    let cases: [(&[&str], &str, DetectionSource); 6] = [
        (
            &[],
            "orders-eu1-3",
            DetectionSource::Override {
                variable: OVERRIDE.into(),
            },
        ),
        (&[OVERRIDE], "3d8d9e3a2b7e48", DetectionSource::FlyIo),
        (
            &[OVERRIDE, "FLY_ALLOC_ID"],
            "orders-api-7d9f8b6c4-x2x9k",
            DetectionSource::Kubernetes,
        ),
        (
            &[OVERRIDE, "FLY_ALLOC_ID", "KUBERNETES_SERVICE_HOST"],
            "ecs-a1b2c3d4e5f6-1234567890",
            DetectionSource::Ecs,
        ),
        (
            &[
                OVERRIDE,
                "FLY_ALLOC_ID",
                "KUBERNETES_SERVICE_HOST",
                "ECS_CONTAINER_METADATA_URI_V4",
            ],
            "orders-00042-xaz-a7f3c92d",
            DetectionSource::CloudRun,
        ),
        (
            &[
                OVERRIDE,
                "FLY_ALLOC_ID",
                "KUBERNETES_SERVICE_HOST",
                "ECS_CONTAINER_METADATA_URI_V4",
                "K_REVISION",
            ],
            "build-box-a7f3c92d",
            DetectionSource::Fallback,
        ),
    ];
    for (skip, id, source) in cases {
        let found = detect(&env_without(skip), OVERRIDE).unwrap();
        assert_eq!(found.id(), id, "without {skip:?}");
        assert_eq!(found.source(), &source, "without {skip:?}");
    }
}

#[test]
fn override_variable_name_is_configurable() {
    let env = env_without(&[]).var("MYAPP_NODE", "node-eu-7");
    let found = detect(&env, "MYAPP_NODE").unwrap();
    assert_eq!(found.id(), "node-eu-7");
    assert_eq!(
        found.source(),
        &DetectionSource::Override {
            variable: "MYAPP_NODE".into()
        }
    );
    assert_eq!(found.to_string(), "node-eu-7 (from override MYAPP_NODE)");
    // APP_INSTANCE_ID is just another variable when the application names its own.
    let env = env_without(&["MYAPP_NODE"]);
    assert_eq!(detect(&env, "MYAPP_NODE").unwrap().id(), "3d8d9e3a2b7e48");
}

#[test]
fn blank_override_is_kept_for_validation_but_blank_platform_values_are_not() {
    // An override set to "" is a misconfiguration: detection keeps it so that staging
    // and production can refuse it with a message instead of silently falling back.
    let env = MapEnv::new().var(OVERRIDE, "").var("FLY_ALLOC_ID", "fly-1");
    let found = detect(&env, OVERRIDE).unwrap();
    assert_eq!(found.id(), "");
    assert!(matches!(found.source(), DetectionSource::Override { .. }));

    // Platform variables that are blank mean "not on that platform".
    let env = MapEnv::new()
        .var("FLY_ALLOC_ID", "  ")
        .var("KUBERNETES_SERVICE_HOST", "10.0.0.1")
        .var("HOSTNAME", "")
        .var("ECS_CONTAINER_METADATA_URI_V4", "")
        .var("K_REVISION", " rev-1 ")
        .random(1);
    let found = detect(&env, OVERRIDE).unwrap();
    assert_eq!(found.id(), "rev-1-00000001");
    assert_eq!(found.source(), &DetectionSource::CloudRun);
}

#[test]
fn kubernetes_needs_the_service_host() {
    // HOSTNAME alone is set by every shell; only a pod has KUBERNETES_SERVICE_HOST.
    let env = MapEnv::new()
        .var("HOSTNAME", "laptop")
        .hostname("laptop")
        .random(0xdead_beef);
    let found = detect(&env, OVERRIDE).unwrap();
    assert_eq!(found.id(), "laptop-deadbeef");
    assert_eq!(found.source(), &DetectionSource::Fallback);
}

#[test]
fn ecs_container_id_comes_from_the_uri_path_without_a_request() {
    let cases = [
        (
            "http://169.254.170.2/v4/6d6b5c1e2f3a4b5c-3412340021",
            Some("ecs-6d6b5c1e2f3a4b5c-3412340021"),
        ),
        ("http://169.254.170.2/v4/abc123/", Some("ecs-abc123")),
        ("http://169.254.170.2/v4/abc123?task=1", Some("ecs-abc123")),
        // No container segment, or one with characters an ID should not carry: skipped.
        ("http://169.254.170.2/v4/", None),
        ("http://169.254.170.2", None),
        ("not a uri", None),
        ("http://169.254.170.2/v4/a%20b", None),
    ];
    for (uri, expected) in cases {
        let env = MapEnv::new()
            .var("ECS_CONTAINER_METADATA_URI_V4", uri)
            .hostname("h")
            .random(7);
        let found = detect(&env, OVERRIDE).unwrap();
        match expected {
            Some(id) => {
                assert_eq!(found.id(), id, "{uri}");
                assert_eq!(found.source(), &DetectionSource::Ecs);
            }
            None => {
                assert_eq!(found.id(), "h-00000007", "{uri}");
                assert_eq!(found.source(), &DetectionSource::Fallback);
            }
        }
    }
}

#[test]
fn fallback_without_hostname_and_with_real_randomness() {
    let found = detect(&MapEnv::new().random(0x0000_00ff), OVERRIDE).unwrap();
    assert_eq!(found.id(), "host-000000ff");

    // The default random source is the OS: two detections differ, and the suffix is
    // 8 lowercase hex digits.
    let env = MapEnv::new().hostname("web");
    let a = detect(&env, OVERRIDE).unwrap().into_id();
    let b = detect(&env, OVERRIDE).unwrap().into_id();
    assert_ne!(a, b);
    for id in [&a, &b] {
        let suffix = id.strip_prefix("web-").unwrap();
        assert_eq!(suffix.len(), 8, "{id}");
        assert!(
            suffix
                .bytes()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
            "{id}"
        );
    }
}

#[test]
fn closures_and_the_os_environment_are_sources() {
    let env = |name: &str| (name == "K_REVISION").then(|| "svc-00001-abc".to_owned());
    let found = detect(&env, OVERRIDE).unwrap();
    assert!(found.id().starts_with("svc-00001-abc-"), "{found}");
    assert_eq!(found.id().len(), "svc-00001-abc-".len() + 8);

    // OsEnv reads the real environment: PATH is set in any test run.
    assert!(OsEnv.var("PATH").is_some());
    assert!(OsEnv.random_u32().is_ok());
}

#[test]
fn entropy_failure_is_a_typed_error() {
    struct NoRandom;
    impl EnvSource for NoRandom {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
        fn random_u32(&self) -> Result<u32, DetectError> {
            Err(DetectError::NoRandomness)
        }
    }
    let err = detect(&NoRandom, OVERRIDE).unwrap_err();
    assert_eq!(err, DetectError::NoRandomness);
    assert_eq!(
        err.to_string(),
        "cannot make a random instance ID suffix: no randomness available"
    );
    // An override needs no randomness.
    struct Fixed;
    impl EnvSource for Fixed {
        fn var(&self, name: &str) -> Option<String> {
            (name == OVERRIDE).then(|| "fixed-instance".into())
        }
        fn random_u32(&self) -> Result<u32, DetectError> {
            Err(DetectError::NoRandomness)
        }
    }
    assert_eq!(detect(&Fixed, OVERRIDE).unwrap().id(), "fixed-instance");
}

#[test]
fn sources_display_for_start_up_logs() {
    let cases = [
        (
            DetectionSource::Override {
                variable: OVERRIDE.into(),
            },
            "override APP_INSTANCE_ID",
            "override",
            true,
        ),
        (DetectionSource::FlyIo, "Fly.io FLY_ALLOC_ID", "fly", true),
        (
            DetectionSource::Kubernetes,
            "Kubernetes pod HOSTNAME",
            "kubernetes",
            true,
        ),
        (
            DetectionSource::Ecs,
            "AWS ECS ECS_CONTAINER_METADATA_URI_V4",
            "ecs",
            true,
        ),
        (
            DetectionSource::CloudRun,
            "Google Cloud Run K_REVISION + random suffix",
            "cloud-run",
            false,
        ),
        (
            DetectionSource::Fallback,
            "hostname + random suffix",
            "fallback",
            false,
        ),
    ];
    for (source, display, name, stable) in cases {
        assert_eq!(source.to_string(), display);
        assert_eq!(source.name(), name);
        assert_eq!(source.is_stable(), stable, "{source}");
    }
}

// ---------------------------------------------------------------------------------
// Environments
// ---------------------------------------------------------------------------------

#[test]
fn environment_names_and_aliases() {
    for (text, env) in [
        ("development", Environment::Development),
        ("dev", Environment::Development),
        ("DEV", Environment::Development),
        ("staging", Environment::Staging),
        ("Stage", Environment::Staging),
        ("production", Environment::Production),
        (" prod\n", Environment::Production),
    ] {
        assert_eq!(text.parse::<Environment>().unwrap(), env, "{text:?}");
    }
    for env in Environment::ALL {
        assert_eq!(env.to_string().parse::<Environment>().unwrap(), env);
    }
    assert!(!Environment::Development.is_strict());
    assert!(Environment::Staging.is_strict() && Environment::Production.is_strict());
}

#[test]
fn unknown_environment_lists_the_valid_ones() {
    let err = "qa".parse::<Environment>().unwrap_err();
    assert_eq!(err.value(), "qa");
    assert_eq!(err.variable(), None);
    assert_eq!(
        err.to_string(),
        r#"unknown environment "qa": expected one of development, staging, production (or dev, stage, prod)"#
    );

    let env = MapEnv::new().var("APP_ENV", "prd");
    let err = Environment::from_env(&env, "APP_ENV", Environment::Production).unwrap_err();
    assert_eq!(err.variable(), Some("APP_ENV"));
    assert_eq!(
        err.to_string(),
        r#"unknown environment "prd" in APP_ENV: expected one of development, staging, production (or dev, stage, prod), e.g. APP_ENV=production"#
    );
}

#[test]
fn environment_variable_name_and_default_are_configurable() {
    let env = MapEnv::new().var("DEPLOY_STAGE", "staging");
    assert_eq!(
        Environment::from_env(&env, "DEPLOY_STAGE", Environment::Production).unwrap(),
        Environment::Staging
    );
    // Unset or blank: the default.
    for env in [MapEnv::new(), MapEnv::new().var("APP_ENV", " ")] {
        assert_eq!(
            Environment::from_env(&env, "APP_ENV", Environment::Development).unwrap(),
            Environment::Development
        );
        assert_eq!(
            Environment::from_env(&env, "APP_ENV", Environment::Production).unwrap(),
            Environment::Production
        );
    }
}

// ---------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------

fn overridden(id: &str) -> Detection {
    Detection::new(
        id,
        DetectionSource::Override {
            variable: OVERRIDE.into(),
        },
    )
}

#[test]
fn development_accepts_insecure_ids_only_when_opted_in() {
    let insecure = [
        ("", RefusalReason::Empty),
        (" ", RefusalReason::Blank),
        ("localhost", RefusalReason::KnownDefault),
        ("127.0.0.1", RefusalReason::KnownDefault),
        ("${HOSTNAME}", RefusalReason::UnexpandedPlaceholder),
        ("x y", RefusalReason::InnerWhitespace),
    ];
    let opted_in = Validator::new(OVERRIDE).allow_insecure_in_development(true);
    for (id, reason) in insecure {
        // Without the opt-in: refused, and the message says both ways out.
        let err = validate(&overridden(id), Environment::Development, OVERRIDE).unwrap_err();
        assert_eq!(err.reason(), reason, "{id:?}");
        assert_eq!(err.environment(), Environment::Development);
        assert_eq!(err.allow_insecure_var(), DEFAULT_ALLOW_INSECURE_VAR);
        let message = err.to_string();
        assert!(
            message.contains("Set APP_INSTANCE_ID to a name unique"),
            "{message}"
        );
        assert!(
            message.ends_with(
                "; to accept it anyway on a development machine, set \
                 APP_ALLOW_INSECURE_INSTANCE_ID=1"
            ),
            "{message}"
        );
        // With it: accepted, with a warning for the start-up log.
        assert_eq!(
            opted_in.validate(&overridden(id), Environment::Development),
            Ok(vec![ValidationWarning::InsecureAllowed {
                id: id.to_owned(),
                reason
            }]),
            "{id:?}"
        );
        // Staging and production ignore the opt-in.
        for strict in [Environment::Staging, Environment::Production] {
            let err = opted_in.validate(&overridden(id), strict).unwrap_err();
            assert_eq!(err.reason(), reason);
            assert!(!err.to_string().contains("development machine"), "{err}");
        }
    }
    // A good ID needs no opt-in anywhere, and short ones only warn where strict.
    assert_eq!(
        validate(&overridden("a"), Environment::Development, OVERRIDE),
        Ok(vec![])
    );
    assert_eq!(
        opted_in.validate(&overridden("orders-api-7f3c2a91"), Environment::Development),
        Ok(vec![])
    );
    // The opt-in given in production is worth a warning: it does nothing there.
    assert_eq!(
        opted_in.validate(&overridden("orders-api-7f3c2a91"), Environment::Production),
        Ok(vec![ValidationWarning::InsecureOptInIgnored {
            environment: Environment::Production,
            variable: DEFAULT_ALLOW_INSECURE_VAR.into()
        }])
    );
    assert_eq!(
        ValidationWarning::InsecureOptInIgnored {
            environment: Environment::Production,
            variable: DEFAULT_ALLOW_INSECURE_VAR.into()
        }
        .to_string(),
        "insecure instance IDs are allowed in development only: the opt-in \
         (APP_ALLOW_INSECURE_INSTANCE_ID or the application's flag) is ignored in production"
    );
}

#[test]
fn the_opt_in_variable_is_read_strictly() {
    let found = overridden("localhost");
    for yes in ["1", "true", "TRUE", "yes", "On", " 1 "] {
        let env = MapEnv::new().var(DEFAULT_ALLOW_INSECURE_VAR, yes);
        let v = Validator::new(OVERRIDE)
            .allow_insecure_from_env(&env)
            .unwrap();
        assert!(v.allows_insecure(), "{yes:?}");
        assert!(v.validate(&found, Environment::Development).is_ok());
    }
    for no in ["0", "false", "No", "off", "", "  "] {
        let env = MapEnv::new().var(DEFAULT_ALLOW_INSECURE_VAR, no);
        let v = Validator::new(OVERRIDE)
            .allow_insecure_from_env(&env)
            .unwrap();
        assert!(!v.allows_insecure(), "{no:?}");
        assert!(v.validate(&found, Environment::Development).is_err());
    }
    // A "no" does not take back the application's own flag.
    let env = MapEnv::new().var(DEFAULT_ALLOW_INSECURE_VAR, "0");
    assert!(
        Validator::new(OVERRIDE)
            .allow_insecure_in_development(true)
            .allow_insecure_from_env(&env)
            .unwrap()
            .allows_insecure()
    );
    // Unset: no opt-in.
    assert!(
        !Validator::new(OVERRIDE)
            .allow_insecure_from_env(&MapEnv::new())
            .unwrap()
            .allows_insecure()
    );
    // Anything else is an error that says what is valid; hostile values are quoted.
    for bad in ["maybe", "2", "y", "truee", "1\u{202E}", "\u{200B}1"] {
        let env = MapEnv::new().var(DEFAULT_ALLOW_INSECURE_VAR, bad);
        let err: OptInError = Validator::new(OVERRIDE)
            .allow_insecure_from_env(&env)
            .unwrap_err();
        assert_eq!(err.value(), bad);
        assert_eq!(err.variable(), DEFAULT_ALLOW_INSECURE_VAR);
        let message = err.to_string();
        assert!(
            !message.contains('\u{202E}') && !message.contains('\u{200B}'),
            "{message:?}"
        );
        assert!(
            message.ends_with(
                "in APP_ALLOW_INSECURE_INSTANCE_ID: expected 1, true, yes or on to allow \
                 insecure instance IDs in development, or 0, false, no, off (or unset) to \
                 refuse them"
            ),
            "{message}"
        );
    }
    assert_eq!(
        Validator::new(OVERRIDE)
            .allow_insecure_from_env(&MapEnv::new().var(DEFAULT_ALLOW_INSECURE_VAR, "maybe"))
            .unwrap_err()
            .to_string(),
        "invalid value \"maybe\" in APP_ALLOW_INSECURE_INSTANCE_ID: expected 1, true, yes or \
         on to allow insecure instance IDs in development, or 0, false, no, off (or unset) to \
         refuse them"
    );
    // The variable's name is configurable, and the messages use it.
    let env = MapEnv::new().var("ORDERS_DEV_INSECURE", "yes");
    let v = Validator::new(OVERRIDE)
        .allow_insecure_var("ORDERS_DEV_INSECURE")
        .allow_insecure_from_env(&env)
        .unwrap();
    assert!(v.allows_insecure());
    let strict = Validator::new(OVERRIDE).allow_insecure_var("ORDERS_DEV_INSECURE");
    let err = strict
        .validate(&found, Environment::Development)
        .unwrap_err();
    assert!(
        err.to_string().ends_with("set ORDERS_DEV_INSECURE=1"),
        "{err}"
    );
}

#[test]
fn application_defaults_are_refused_with_a_fix() {
    let validator = Validator::new("ASYNCGATE_INSTANCE_ID")
        .known_default("asyncgate-1")
        .known_defaults(["  asyncgate-local\n", "", "   "]);
    assert_eq!(
        validator.application_defaults(),
        ["asyncgate-1", "asyncgate-local"]
    );
    let source = DetectionSource::Override {
        variable: "ASYNCGATE_INSTANCE_ID".into(),
    };
    for id in [
        "asyncgate-1",
        "AsyncGate-1",
        " asyncgate-1\t",
        "asyncgate-local",
    ] {
        for env in Environment::ALL {
            let err = validator
                .validate(&Detection::new(id, source.clone()), env)
                .unwrap_err();
            assert_eq!(
                err.reason(),
                RefusalReason::ApplicationDefault,
                "{id:?} in {env}"
            );
        }
    }
    let err = validator
        .validate(
            &Detection::new("asyncgate-1", source.clone()),
            Environment::Production,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing instance ID \"asyncgate-1\" in production: it is this application's \
         default, which every instance shares until it is given its own (detected from \
         override ASYNCGATE_INSTANCE_ID). Set ASYNCGATE_INSTANCE_ID to a name unique to this \
         instance, e.g. ASYNCGATE_INSTANCE_ID=orders-api-7f3c2a91, or unset \
         ASYNCGATE_INSTANCE_ID to use the platform's ID"
    );
    // Detected from a platform, the message does not suggest unsetting an override.
    let err = validator
        .validate(
            &Detection::new("asyncgate-1", DetectionSource::Kubernetes),
            Environment::Staging,
        )
        .unwrap_err();
    assert!(!err.to_string().contains("unset"), "{err}");
    // Only whole IDs: names that merely contain a default are fine.
    for id in ["asyncgate-12", "asyncgate-1-eu", "eu-asyncgate-1"] {
        assert!(
            validator
                .validate(&Detection::new(id, source.clone()), Environment::Production)
                .is_ok(),
            "{id}"
        );
    }
    // The built-in list still applies, and comes first.
    let err = validator
        .validate(
            &Detection::new("localhost", source),
            Environment::Production,
        )
        .unwrap_err();
    assert_eq!(err.reason(), RefusalReason::KnownDefault);
    // Without the application's list, its default passes (it is not a known default).
    assert!(
        validate(
            &overridden("asyncgate-1"),
            Environment::Production,
            OVERRIDE
        )
        .is_ok()
    );
}

#[test]
fn strict_environments_refuse_known_defaults() {
    for env in [Environment::Staging, Environment::Production] {
        for default in KNOWN_DEFAULTS {
            for id in [
                default.to_string(),
                default.to_uppercase(),
                format!("  {default}\n"),
            ] {
                let err = validate(&overridden(&id), env, OVERRIDE).unwrap_err();
                assert_eq!(err.reason(), RefusalReason::KnownDefault, "{id:?}");
                assert_eq!(err.id(), id);
                assert_eq!(err.environment(), env);
            }
        }
    }
    // The spec's list is all there.
    for required in [
        "default",
        "localhost",
        "127.0.0.1",
        "::1",
        "0.0.0.0",
        "instance",
        "changeme",
        "test",
        "unknown",
    ] {
        assert!(KNOWN_DEFAULTS.contains(&required), "{required}");
    }
}

#[test]
fn exact_operator_messages() {
    let cases = [
        (
            overridden("localhost"),
            Environment::Production,
            RefusalReason::KnownDefault,
            "refusing instance ID \"localhost\" in production: it is a known default that \
             many instances share (detected from override APP_INSTANCE_ID). Set \
             APP_INSTANCE_ID to a name unique to this instance, e.g. \
             APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID to use the \
             platform's ID",
        ),
        (
            overridden(""),
            Environment::Staging,
            RefusalReason::Empty,
            "refusing instance ID \"\" in staging: it is empty (detected from override \
             APP_INSTANCE_ID). Set APP_INSTANCE_ID to a name unique to this instance, e.g. \
             APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID to use the \
             platform's ID",
        ),
        (
            overridden(" \t"),
            Environment::Production,
            RefusalReason::Blank,
            "refusing instance ID \" \\t\" in production: it is only whitespace (detected \
             from override APP_INSTANCE_ID). Set APP_INSTANCE_ID to a name unique to this \
             instance, e.g. APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID \
             to use the platform's ID",
        ),
        (
            Detection::new("127.0.0.1", DetectionSource::Kubernetes),
            Environment::Production,
            RefusalReason::KnownDefault,
            "refusing instance ID \"127.0.0.1\" in production: it is a known default that \
             many instances share (detected from Kubernetes pod HOSTNAME). Set \
             APP_INSTANCE_ID to a name unique to this instance, e.g. \
             APP_INSTANCE_ID=orders-api-7f3c2a91",
        ),
        (
            overridden("orders-api-1\n"),
            Environment::Production,
            RefusalReason::SurroundingWhitespace,
            "refusing instance ID \"orders-api-1\\n\" in production: it has leading or \
             trailing whitespace (detected from override APP_INSTANCE_ID). Set \
             APP_INSTANCE_ID to a name unique to this instance, e.g. \
             APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID to use the \
             platform's ID",
        ),
        (
            overridden("orders api 1"),
            Environment::Production,
            RefusalReason::InnerWhitespace,
            "refusing instance ID \"orders api 1\" in production: it contains whitespace \
             or control characters (detected from override APP_INSTANCE_ID). Set \
             APP_INSTANCE_ID to a name unique to this instance, e.g. \
             APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID to use the \
             platform's ID",
        ),
        (
            overridden("${POD_NAME}"),
            Environment::Staging,
            RefusalReason::UnexpandedPlaceholder,
            "refusing instance ID \"${POD_NAME}\" in staging: it looks like a template \
             placeholder that was never expanded (detected from override \
             APP_INSTANCE_ID). Set APP_INSTANCE_ID to a name unique to this instance, e.g. \
             APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID to use the \
             platform's ID",
        ),
    ];
    for (detection, env, reason, message) in cases {
        let err = validate(&detection, env, OVERRIDE).unwrap_err();
        assert_eq!(err.reason(), reason, "{detection:?}");
        assert_eq!(err.to_string(), message);
        assert_eq!(err.source(), detection.source());
        assert_eq!(err.override_var(), OVERRIDE);
    }
    // The variable named in the fix is the application's own.
    let err = validate(&overridden("test"), Environment::Production, "MYAPP_NODE").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("Set MYAPP_NODE to a name unique to this instance, e.g. MYAPP_NODE=orders-api-7f3c2a91, or unset MYAPP_NODE to use the platform's ID"),
        "{err}"
    );
}

#[test]
fn short_ids_warn_in_strict_environments_only() {
    let found = Detection::new("web-1", DetectionSource::Kubernetes);
    let warnings = validate(&found, Environment::Production, OVERRIDE).unwrap();
    assert_eq!(
        warnings,
        vec![ValidationWarning::Short {
            id: "web-1".into(),
            len: 5,
            override_var: OVERRIDE.into(),
        }]
    );
    assert_eq!(
        warnings[0].to_string(),
        "instance ID \"web-1\" is only 5 characters long; IDs under 8 characters are easily \
         reused by accident (consider APP_INSTANCE_ID=orders-api-7f3c2a91)"
    );
    assert_eq!(
        validate(&found, Environment::Staging, OVERRIDE)
            .unwrap()
            .len(),
        1
    );
    assert!(
        validate(&found, Environment::Development, OVERRIDE)
            .unwrap()
            .is_empty()
    );
    // Exactly 8 characters (counted as characters, not bytes) is fine; 7 is not.
    let eight = Detection::new("wéb-1234", DetectionSource::FlyIo);
    assert!(
        validate(&eight, Environment::Production, OVERRIDE)
            .unwrap()
            .is_empty()
    );
    let seven = Detection::new("web-123", DetectionSource::FlyIo);
    assert_eq!(
        validate(&seven, Environment::Production, OVERRIDE)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn detected_platform_ids_pass_production() {
    for skip in [
        &[][..],
        &[OVERRIDE][..],
        &[OVERRIDE, "FLY_ALLOC_ID"][..],
        &[OVERRIDE, "FLY_ALLOC_ID", "KUBERNETES_SERVICE_HOST"][..],
        &[
            OVERRIDE,
            "FLY_ALLOC_ID",
            "KUBERNETES_SERVICE_HOST",
            "ECS_CONTAINER_METADATA_URI_V4",
            "K_REVISION",
        ][..],
    ] {
        let found = detect(&env_without(skip), OVERRIDE).unwrap();
        assert_eq!(
            validate(&found, Environment::Production, OVERRIDE),
            Ok(vec![]),
            "{found}"
        );
    }
    // A fallback on a host called "localhost" is unique thanks to its suffix.
    let found = detect(&MapEnv::new().hostname("localhost").random(9), OVERRIDE).unwrap();
    assert_eq!(found.id(), "localhost-00000009");
    assert!(validate(&found, Environment::Production, OVERRIDE).is_ok());
}

/// Format characters (Unicode `Cf`) and other invisible ones: bidi embeddings, overrides
/// and isolates, zero-width spaces and joiners, marks, the BOM, the soft hyphen, tags.
const INVISIBLE: &[char] = &[
    '\u{202A}',
    '\u{202B}',
    '\u{202C}',
    '\u{202D}',
    '\u{202E}',
    '\u{2066}',
    '\u{2067}',
    '\u{2068}',
    '\u{2069}',
    '\u{200B}',
    '\u{200C}',
    '\u{200D}',
    '\u{200E}',
    '\u{200F}',
    '\u{FEFF}',
    '\u{00AD}',
    '\u{2060}',
    '\u{2061}',
    '\u{2064}',
    '\u{206F}',
    '\u{061C}',
    '\u{180E}',
    '\u{0600}',
    '\u{FFF9}',
    '\u{FFFB}',
    '\u{1D173}',
    '\u{E0001}',
    '\u{E0041}',
    '\u{E007F}',
    '\u{034F}',
    '\u{115F}',
    '\u{3164}',
    '\u{FFA0}',
    '\u{FE0F}',
    '\u{E0100}',
];

#[test]
fn strict_environments_refuse_invisible_format_characters() {
    for env in [Environment::Staging, Environment::Production] {
        for &c in INVISIBLE {
            for (id, index) in [
                (format!("{c}orders-api-7f3c2a91"), 0),
                (format!("orders{c}-api-7f3c2a91"), 6),
                (format!("orders-api-7f3c2a91{c}"), 19),
                (format!("local{c}host"), 5),
            ] {
                let err = validate(&overridden(&id), env, OVERRIDE).unwrap_err();
                assert_eq!(
                    err.reason(),
                    RefusalReason::FormatCharacter { found: c, index },
                    "{id:?} in {env}"
                );
                let message = err.to_string();
                assert!(!message.contains(c), "{message:?} prints {c:?} raw");
                assert!(
                    message.contains(&format!("U+{:04X}", u32::from(c))),
                    "{message}"
                );
            }
        }
    }
    // Ordinary letters from other scripts are not format characters.
    for id in [
        "wéb-1234-ünïcode",
        "заказы-7f3c2a91",
        "注文-7f3c2a91",
        "שרת-7f3c2a91",
    ] {
        assert!(
            validate(&overridden(id), Environment::Production, OVERRIDE).is_ok(),
            "{id}"
        );
    }
}

#[test]
fn invisible_character_message_says_how_to_fix_it() {
    let err = validate(
        &overridden("orders-api-1\u{202E}7f3c"),
        Environment::Production,
        OVERRIDE,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing instance ID \"orders-api-1\\u{202e}7f3c\" in production: it contains \
         the invisible formatting character U+202E at byte 12, which can make one ID look \
         like another (detected from override APP_INSTANCE_ID). Retype the value without \
         it; such characters come with text pasted from documents and chats. Set \
         APP_INSTANCE_ID to a name unique to this instance, e.g. \
         APP_INSTANCE_ID=orders-api-7f3c2a91, or unset APP_INSTANCE_ID to use the \
         platform's ID"
    );
}

#[test]
fn development_accepts_invisible_characters_with_a_warning_when_opted_in() {
    let found = overridden("orders-api\u{200B}-7f3c2a91");
    let err = validate(&found, Environment::Development, OVERRIDE).unwrap_err();
    assert_eq!(
        err.reason(),
        RefusalReason::FormatCharacter {
            found: '\u{200B}',
            index: 10
        }
    );
    let warnings = Validator::new(OVERRIDE)
        .allow_insecure_in_development(true)
        .validate(&found, Environment::Development)
        .unwrap();
    assert_eq!(
        warnings,
        vec![ValidationWarning::FormatCharacter {
            id: found.id().to_owned(),
            found: '\u{200B}',
            index: 10,
            override_var: OVERRIDE.into(),
        }]
    );
    assert_eq!(
        warnings[0].to_string(),
        "instance ID \"orders-api\\u{200b}-7f3c2a91\" contains the invisible formatting \
         character U+200B at byte 10; staging and production refuse it (retype \
         APP_INSTANCE_ID without it)"
    );
}

#[test]
fn detection_display_escapes_invisible_and_control_characters() {
    let cases = [
        ("web-1-a7f3c92d", "web-1-a7f3c92d"),
        ("web\u{202E}1-a7f3", "web\\u{202e}1-a7f3"),
        ("\u{FEFF}web-1", "\\u{feff}web-1"),
        ("a\u{200B}b\u{00AD}c", "a\\u{200b}b\\u{ad}c"),
        ("line\nbreak\t\u{7}", "line\\nbreak\\t\\u{7}"),
        ("back\\slash", "back\\\\slash"),
        ("wéb-ünï", "wéb-ünï"),
    ];
    for (id, shown) in cases {
        let detection = Detection::new(id, DetectionSource::Kubernetes);
        assert_eq!(
            detection.to_string(),
            format!("{shown} (from Kubernetes pod HOSTNAME)"),
            "{id:?}"
        );
    }
    for &c in INVISIBLE {
        let detection = Detection::new(format!("a{c}b"), DetectionSource::Fallback);
        let shown = detection.to_string();
        assert!(!shown.contains(c), "{shown:?}");
        assert!(
            shown.starts_with(&format!("a\\u{{{:x}}}b ", u32::from(c))),
            "{shown:?}"
        );
    }
    // The override variable's name is escaped too.
    let detection = Detection::new(
        "x",
        DetectionSource::Override {
            variable: "APP\u{202E}ID".into(),
        },
    );
    assert_eq!(detection.to_string(), "x (from override APP\\u{202e}ID)");
}
