using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using static Conformance.Suites.Support.V2Mediation;

namespace Conformance.Suites.Mediator;

// Counterparts of shared/specs/identus-mediator/mediation_coordination.feature (Identus didcomm-v2-mediator-test-suite).
[Suite("MEDIATE2", "Coordinate Mediation 2.0", "didcomm-v2-protocols/coordinate-mediation-2.0.md#message-reference", Target = CaseTarget.Mediator)]
public static class CoordinateMediation2
{
    private const string Feature = "mediation_coordination.feature: ";

    [Case("MEDIATE2-GRANT-001",
        "Mediate Grant: \"A mediate grant message is a signal from the mediator to the recipient that permission is given to distribute the included information as an inbound route\"; routing_did: \"DID of the mediator where forwarded messages should be sent\".",
        Section = "mediate-grant", Counterpart = Feature + "Background (mediate request → mediate grant)",
        Description = "A recipient sends mediate-request (authcrypted, return_route all); the answer must be a mediate-grant on its thread whose routing_did resolves to a DIDCommMessaging service.")]
    public static async Task Mediator_grants_mediation(CaseContext c)
    {
        var recipient = await c.V2ClientAsync();
        var routing = await GrantAsync(c, recipient);
        IReadOnlyList<Conformance.Wire.Dids.DidCommService> services;
        try { services = V2Resolver.Shared.Services(routing); }
        catch (DidCommException e)
        {
            c.Note($"routing_did {Short(routing)} was not resolved by the harness ({e.Message}); its service is not checked.");
            return;
        }
        c.Must("\"Inside the resulting DID document, a serviceEndpoint with type DIDCommMessaging MUST exist\" (DIDComm v2 §Using a DID as an endpoint).",
            services.Count > 0, "a DIDCommMessaging service", "none");
    }

    [Case("MEDIATE2-GRANT-002",
        "A mediate-request is answered with mediate-grant or mediate-deny (\"This message serves as a request from the recipient to the mediator, asking for the permission\"), also when the recipient asks a second time.",
        Section = "mediate-request", Counterpart = Feature + "Recipient asks for mediation twice in a row and second request is denied (commented out in the Identus suite)",
        Description = "Two mediate-requests in a row from the same recipient. The protocol does not say whether the second is granted again or denied (the Identus suite left this scenario commented out), so either answer passes; silence or a problem report does not.")]
    public static async Task Mediator_answers_a_second_mediate_request(CaseContext c)
    {
        var recipient = await c.V2ClientAsync();
        await GrantAsync(c, recipient);
        var second = await ExpectAsync(c, "The second mediate-request is answered with mediate-grant or mediate-deny.",
            recipient, recipient.NewMessage(MessageTypes.MediateRequest), MessageTypes.MediateGrant, MessageTypes.MediateDeny);
        c.Note($"second answer: {Name(second.Type)}");
    }

    [Case("MEDIATE2-KEYLIST-001",
        "Keylist Update \"Used to notify the mediator of keys in use by the recipient\"; the Keylist Response reports each update with recipient_did, action (add) and result \"success\".",
        Section = "keylist-update", Counterpart = Feature + "Recipient adds new key to keylist")]
    public static async Task Mediator_adds_a_key(CaseContext c)
    {
        var recipient = await c.V2ClientAsync();
        await GrantAsync(c, recipient);
        var newDid = V2Identity.Create(recipient.Entropy).Did;
        await AddKeyAsync(c, recipient, newDid);
    }

    [Case("MEDIATE2-KEYLIST-002",
        "Keylist Update with action \"remove\" of a DID added before: the Keylist Response reports it with action remove and result \"success\".",
        Section = "keylist-response", Counterpart = Feature + "Recipient removes alias from keylist")]
    public static async Task Mediator_removes_a_key(CaseContext c)
    {
        var recipient = await c.V2ClientAsync();
        await GrantAsync(c, recipient);
        var newDid = V2Identity.Create(recipient.Entropy).Did;
        await AddKeyAsync(c, recipient, newDid);
        await UpdateOneAsync(c, recipient, newDid, "remove", "success",
            "The keylist-update-response reports the removed recipient_did with action remove and result success.");
    }

    [Case("MEDIATE2-KEYLIST-003",
        "result: \"one of client_error, server_error, no_change, success; describes the resulting state of the keylist update\" — removing a DID that is not in the keylist changes nothing: no_change.",
        Section = "keylist-response", Counterpart = Feature + "Recipient removes not existing alias")]
    public static async Task Mediator_reports_no_change_for_an_unknown_key(CaseContext c)
    {
        var recipient = await c.V2ClientAsync();
        await GrantAsync(c, recipient);
        var unknown = V2Identity.Create(recipient.Entropy).Did;
        await UpdateOneAsync(c, recipient, unknown, "remove", "no_change", "Removing a DID that was never added is reported with result no_change.");
    }

    [Case("MEDIATE2-KEYLIST-004",
        "Keylist Query: \"Query mediator for a list of keys registered for this connection\"; the Keylist answer holds the keys; \"pagination: is optional, and if present must include count, offset and remaining\".",
        Section = "keylist-query", Counterpart = Feature + "Recipient query keylist")]
    public static async Task Mediator_lists_the_keys(CaseContext c)
    {
        var recipient = await c.V2ClientAsync();
        await GrantAsync(c, recipient);
        var newDid = V2Identity.Create(recipient.Entropy).Did;
        await AddKeyAsync(c, recipient, newDid);
        var keylist = await KeylistAsync(c, recipient, "The mediator answers keylist-query with keylist (coordinate-mediation 2.0 §Keylist).");
        c.Must("The keylist has a \"keys\" list of {recipient_did}.", keylist.Message.Body["keys"] is System.Text.Json.Nodes.JsonArray,
            "body.keys: [{recipient_did}]", keylist.Message.Body.ToJsonString());
        var keys = keylist.RecipientDids;
        c.Must("The keylist contains the DID just added.", keys.Contains(newDid), Short(newDid), string.Join(", ", keys.Select(k => Short(k))));
        if (keylist.Message.Body["pagination"] is System.Text.Json.Nodes.JsonObject p)
            c.Must("pagination, when present, includes count, offset and remaining.", p["count"] != null && p["offset"] != null && p["remaining"] != null,
                "count, offset, remaining", p.ToJsonString());
    }
}
