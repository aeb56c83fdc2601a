//! Arbitrary bytes as the body of every JSON answer the SDK decodes, and as
//! an access token whose JWT expiry it reads: no panic, and whatever decodes
//! serialises to something that decodes again to the same value.

#![no_main]

use dployr::types::{
    Blueprint, DeployResponse, Deployment, DeploymentList, ErrorResponse, Message, ProxyStatus,
    Service, ServiceList, SystemDoctorResult, SystemInfo, SystemStatus,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn check<T: DeserializeOwned + Serialize>(bytes: &[u8]) {
    let Ok(decoded) = serde_json::from_slice::<T>(bytes) else {
        return;
    };
    let first = serde_json::to_value(&decoded).expect("a decoded value serialises");
    let again: T = serde_json::from_value(first.clone()).expect("own output decodes");
    assert_eq!(serde_json::to_value(&again).unwrap(), first);
}

fuzz_target!(|bytes: &[u8]| {
    check::<DeploymentList>(bytes);
    check::<DeployResponse>(bytes);
    check::<ServiceList>(bytes);
    check::<Service>(bytes);
    check::<ProxyStatus>(bytes);
    check::<Message>(bytes);
    check::<SystemStatus>(bytes);
    check::<SystemInfo>(bytes);
    check::<SystemDoctorResult>(bytes);
    check::<ErrorResponse>(bytes);
    check::<Deployment>(bytes);
    check::<Blueprint>(bytes);
    if let Some(exp) = dployr::jwt_expiry(&String::from_utf8_lossy(bytes)) {
        assert!(exp.is_finite());
    }
});
