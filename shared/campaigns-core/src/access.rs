//! What a campaigns request needs before its service runs: the
//! access-token keys only for an admin route that carries a token (without
//! one the route answers 401 before it needs them).
use sealpost_api::ApiRequest;
use sealpost_api::routes::RouteId;
use sealpost_guard::KeyNeed;

/// Whether `req` needs the access-token keys.
pub fn key_need(req: &ApiRequest) -> KeyNeed {
    let admin = matches!(
        req.id(),
        RouteId::AdminSubscribers
            | RouteId::AdminSubscribersExport
            | RouteId::AdminSubscribersImport
            | RouteId::AdminCampaignCreate
            | RouteId::AdminCampaignSend
            | RouteId::AdminCampaignGet
            | RouteId::AdminCampaignsList
            | RouteId::AdminCampaignUpdate
            | RouteId::AdminCampaignTest
            | RouteId::AdminCampaignCancel
    );
    if admin && req.authorization().is_some() {
        KeyNeed::Required
    } else {
        KeyNeed::None
    }
}

/// Whether `req` is served by the campaign admin service (`Sending`); a
/// test send has its own service (`TestSends`, it mails), and the other
/// routes belong to `Subscriptions` or the dev mail box.
pub fn is_campaign_admin(req: &ApiRequest) -> bool {
    matches!(
        req.id(),
        RouteId::AdminCampaignCreate
            | RouteId::AdminCampaignSend
            | RouteId::AdminCampaignGet
            | RouteId::AdminCampaignsList
            | RouteId::AdminCampaignUpdate
            | RouteId::AdminCampaignCancel
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_ports::SiteId;

    fn req(route: RouteId) -> ApiRequest {
        ApiRequest::new(route, SiteId::parse("default").unwrap())
    }

    #[test]
    fn only_an_admin_route_with_a_token_needs_the_keys() {
        assert_eq!(key_need(&req(RouteId::AdminSubscribers)), KeyNeed::None);
        assert_eq!(
            key_need(&req(RouteId::AdminCampaignSend).with_bearer("t")),
            KeyNeed::Required
        );
        assert_eq!(
            key_need(&req(RouteId::Subscribe).with_bearer("t")),
            KeyNeed::None
        );
    }
}
