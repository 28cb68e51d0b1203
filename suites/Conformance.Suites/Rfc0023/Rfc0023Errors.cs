using System.Text.Json.Nodes;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.OutOfBand;
using Conformance.Harness.Grading;
using Conformance.Suites.Rfc0160;
using Conformance.Suites.Support;

namespace Conformance.Suites.Rfc0023;

[Suite("RFC0023", "Errors", DidExchanges.Section + "#errors")]
public static class Rfc0023Errors
{
    /// <summary>
    /// AUT = responder; the reference requester sends a faulty request; the AUT must not answer it with a response.
    /// The requester is an edge agent (no endpoint, return-route on): a faulty DID leaves no service to answer to,
    /// but the problem report can still come back on the request's own HTTP exchange.
    /// </summary>
    private static async Task RequestMustBeRejected(CaseContext c, string fault, Func<JsonObject, JsonObject> mutate, bool reportIsMust = false)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1");
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true, new Agent.Transport.AgentHostOptions { NoInbound = true });
        peer.Agent.Misbehaviour.Add(new MisbehaviourRule("request", fault) { Mutate = mutate });
        var refused = false;
        try { await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new OobReceiveOptions { AutoAccept = true }); }
        catch (Agent.Transport.DeliveryException e) { c.Note("the responder refused the faulty request at the transport: " + e.Message); refused = true; }
        var request = Flows.SentByPeer(c, "request")!;
        var requestThread = Flows.ThreadId(request) ?? Flows.OptStr(request, "@id")!;
        // The requester has no endpoint: a report can only come back on the request's own HTTP exchange. When that
        // exchange failed (refused, or no answer within the timeout), no report can come any more: nothing to wait for.
        var report = await c.ReceivedAsync("problem_report", timeout: refused ? TimeSpan.Zero : null);
        c.Must($"The responder does not answer a request with {fault} with a response.", c.Tap.Received("response").Count == 0, "no response",
            $"{c.Tap.Received("response").Count} response(s)");
        if (reportIsMust) c.Must("The responder sends a problem report (request_not_accepted).", report?.Plaintext != null, "problem_report", Flows.Received(c));
        else c.Should("The responder sends a problem report (request_not_accepted).", report?.Plaintext != null, "problem_report", Flows.Received(c));
        if (report?.Plaintext is { } r) Rfc0160Errors.CheckReport(c, r, "request_not_accepted", requestThread, "didexchange");
        // The state machine is unharmed: a correct request on a fresh invitation still works.
        var again = await DidExchanges.AutAsResponderAsync(c, complete: true);
        c.Must("After the rejection, the responder still completes a correct exchange.", again.AutConnectionId.Length > 0, "completed", "completed");
    }

    [Case("RFC0023-ERRORS-001",
        "request_not_accepted — Possible reasons: Unsupported DID method for provided DID.", Section = "request-errors",
        Description = "The request presents did:unsupported:… with an attached DID document.", Aath = "T010-RFC0023 @wip (responder rejects the request)")]
    public static Task Request_with_unsupported_did_method(CaseContext c) =>
        RequestMustBeRejected(c, "an unsupported DID method", m => { m["did"] = "did:unsupported:0123456789abcdef"; m.Remove("did_doc~attach"); return m; });

    [Case("RFC0023-ERRORS-002",
        "request_not_accepted — Possible reasons: DID Doc Invalid.", Section = "request-errors",
        Description = "The request presents a did:peer:1 whose attached DID document is not a DID document.", Aath = "T010-RFC0023 @wip (responder rejects the request)")]
    public static Task Request_with_invalid_did_doc(CaseContext c) =>
        RequestMustBeRejected(c, "an invalid DID document", m =>
        {
            m["did"] = "did:peer:1zQmZMygzYqNwU6Uhmewx5Xepf2VLp5S4HLSwwgf2aiKZuwa";
            m["did_doc~attach"] = new JsonObject { ["@id"] = "doc", ["mime-type"] = "application/json",
                ["data"] = new JsonObject { ["base64"] = Wire.Encoding.Base64Url.Encode("{\"not\":\"a did document\"}"u8) } };
            return m;
        });

    [Case("RFC0023-ERRORS-003",
        "The ~thread decorator MUST be included: it MUST include the ID of the parent thread (pthid). request_not_accepted — Possible reasons: Missing reference to invitation.",
        Section = "request-errors", Description = "The request carries no ~thread.pthid.", Aath = "T010-RFC0023 @wip (responder rejects the request)")]
    public static Task Request_without_invitation_reference(CaseContext c) =>
        RequestMustBeRejected(c, "no reference to the invitation (no pthid)", m => { m.Remove("~thread"); return m; });

    [Case("RFC0023-ERRORS-004",
        "When a request responds to an explicit invitation, its ~thread.pthid MUST be equal to the @id property of the invitation; a request naming an invitation the responder never made is not accepted.",
        Section = "correlating-requests-to-invitations", Description = "The request's pthid names an unknown invitation.", Aath = "T010-RFC0023 @wip (responder rejects the request)")]
    public static Task Request_with_unknown_invitation(CaseContext c) =>
        RequestMustBeRejected(c, "a pthid naming no invitation", m =>
        {
            m["~thread"] = new JsonObject { ["thid"] = m["@id"]!.GetValue<string>(), ["pthid"] = "11111111-2222-4333-8444-555555555555" };
            return m;
        });

    [Case("RFC0023-ERRORS-005",
        "request_not_accepted — Possible reasons: Unsupported key type.", Section = "request-errors",
        Description = "The request's DID document lists only a secp256k1 key.", Aath = "T010-RFC0023 @wip (responder rejects the request)")]
    public static Task Request_with_unsupported_key_type(CaseContext c) =>
        RequestMustBeRejected(c, "an unsupported key type", m =>
        {
            var doc = new JsonObject
            {
                ["@context"] = "https://www.w3.org/ns/did/v1", ["id"] = "did:example:k1",
                ["verificationMethod"] = new JsonArray(new JsonObject { ["id"] = "#k1", ["type"] = "EcdsaSecp256k1VerificationKey2019", ["controller"] = "did:example:k1",
                    ["publicKeyHex"] = "02b97c30de767f084ce3080168ee293053ba33b235d7116a3263d29f1450936b71" }),
                ["service"] = new JsonArray(new JsonObject { ["id"] = "#svc", ["type"] = "did-communication", ["recipientKeys"] = new JsonArray("#k1"), ["serviceEndpoint"] = "http://127.0.0.1:9/" }),
            };
            m["did"] = "did:example:k1";
            m["did_doc~attach"] = new JsonObject { ["@id"] = "doc", ["mime-type"] = "application/json",
                ["data"] = new JsonObject { ["base64"] = Wire.Encoding.Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString())) } };
            return m;
        });

    [Case("RFC0023-ERRORS-006",
        "Once the exchange is completed, another response on the same thread is not part of the protocol: it produces a problem_report, and the agents still have a completed connection.",
        Section = "errors", Aath = "T007-RFC0023 (Bob sends a response to Acme which produces a problem_report; Acme and Bob still have a completed connection)")]
    public static async Task Response_after_completion_produces_a_problem_report(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, complete: true);
        var oldResponse = Flows.SentByPeer(c, "response")!;
        var replay = Flows.Clone(oldResponse);
        replay["@id"] = x.Peer.Agent.NewId();
        await x.Peer.Agent.Outbound.SendAsync(Wire.Messages.AgentMessage.FromJson(replay), x.Peer.Agent.Store.GetConnection(x.PeerConnectionId)!);
        var report = await c.ReceivedAsync("problem_report");
        c.Should("The requester answers the out-of-place response with a problem_report.", report?.Plaintext != null, "problem_report", Flows.Received(c));
        var state = Flows.OptStr(await c.Backchannel.DidExchangeAsync(x.AutConnectionId), "state");
        c.Must("The connection is still completed.", state == "completed", "completed", state);
    }

    /// <summary>AUT = requester; the reference responder sends a faulty response; the AUT must not complete.</summary>
    private static async Task ResponseMustBeRejected(CaseContext c, string fault, Action<Harness.Drivers.ReferencePeer> misbehave)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        misbehave(peer);
        var record = await peer.Agent.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true });
        var received = await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(record.Invitation), false);
        var autId = Flows.Str(received, "connection_id");
        if (Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state") == "invitation-received")
            await c.Backchannel.DidExchangeSendRequestAsync(autId);
        await Flows.ExpectFromAutAsync(c, "request", "The requester sends its request.");
        var response = await c.Tap.WaitAsync(e => e.Direction == "out" && Harness.Tap.WireTap.TypeNameIs(e, "response"), c.Timeout);
        var report = await c.ReceivedAsync("problem_report");
        var state = Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state");
        c.Must($"The requester does not complete an exchange whose response has {fault}.", state != "completed" && c.Tap.Received("complete").Count == 0,
            "not completed, no complete message", $"state {state}, complete messages {c.Tap.Received("complete").Count}");
        c.Should("The requester reports response_not_accepted.", report?.Plaintext != null, "problem_report", Flows.Received(c));
        if (report?.Plaintext is { } r && response?.Plaintext is { } resp)
            Rfc0160Errors.CheckReport(c, r, "response_not_accepted", [Flows.OptStr(resp, "@id")!, Flows.ThreadId(resp) ?? ""], "didexchange");
    }

    [Case("RFC0023-ERRORS-007",
        "The signature on the did_doc~attach or did_rotate~attach MUST be validated, if present. The key used in the signature MUST match the key used in the invitation. response_not_accepted — Invalid Signature.",
        Section = "response-processing", Description = "The reference responder signs its attachment with a key that is not the invitation key.", Aath = "T011-RFC0023 @wip (requester rejects the response)")]
    public static Task Response_signed_by_another_key(CaseContext c) =>
        ResponseMustBeRejected(c, "an attachment signed by a key that is not the invitation key",
            p => p.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "attachment signed by a stranger key") { SignWith = p.Agent.Wallet.CreateKey() }));

    [Case("RFC0023-ERRORS-008",
        "The signature on the did_doc~attach or did_rotate~attach MUST be validated, if present.",
        Section = "response-processing", Description = "The reference responder corrupts the JWS signature bytes of its attachment.", Aath = "T011-RFC0023 @wip (requester rejects the response)")]
    public static Task Response_with_corrupted_signature(CaseContext c) =>
        ResponseMustBeRejected(c, "a corrupted attachment signature", p => p.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "JWS signature corrupted")
        {
            Mutate = m =>
            {
                foreach (var name in new[] { "did_rotate~attach", "did_doc~attach" })
                    if (m[name]?["data"]?["jws"] is JsonObject jws && jws["signature"] is JsonValue s)
                    {
                        var bytes = Wire.Encoding.Base64Url.Decode(s.GetValue<string>());
                        bytes[0] ^= 0xff;
                        jws["signature"] = Wire.Encoding.Base64Url.Encode(bytes);
                    }
                return m;
            },
        }));

    [Case("RFC0023-ERRORS-009",
        "response_not_accepted — Possible reasons: unsupported DID method for provided DID.",
        Level = Level.MUST, Section = "response-errors", Description = "The reference responder presents did:unsupported:… without a document.", Aath = "T011-RFC0023 @wip (requester rejects the response)")]
    public static Task Response_with_unsupported_did_method(CaseContext c) =>
        ResponseMustBeRejected(c, "an unsupported DID method", p => p.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "did replaced by did:unsupported")
        {
            Mutate = m => { m["did"] = "did:unsupported:abcdef"; m.Remove("did_doc~attach"); return m; },
        }));

    [Case("RFC0023-ERRORS-010",
        "The ~thread decorator MUST be included. It contains a thid reference to the @id of the request message: a response on another thread does not answer the request.",
        Section = "response-message-attributes", Description = "The reference responder answers on an unknown thread.", Aath = "T011-RFC0023 @wip (requester rejects the response)")]
    public static Task Response_on_the_wrong_thread(CaseContext c) =>
        ResponseMustBeRejected(c, "a thread that is not the request's", p => p.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "~thread.thid replaced")
        {
            Mutate = m => { m["~thread"] = new JsonObject { ["thid"] = "99999999-8888-4777-8666-555555555555" }; return m; },
        }));

    [Case("RFC0023-ERRORS-011",
        "These errors do not transition the protocol to the abandoned state: after a request_not_accepted the requester may correct and resend.",
        Level = Level.SHOULD, Section = "errors",
        Description = "The reference responder rejects the AUT's request with request_not_accepted; a fresh invitation still connects.", Aath = "T008-RFC0023 @wip (invitation rejected and connection process restarted)")]
    public static async Task Requester_survives_request_not_accepted(CaseContext c)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        peer.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "response replaced by request_not_accepted") { Mutate = m => new JsonObject
        {
            ["@type"] = "https://didcomm.org/didexchange/1.1/problem_report", ["@id"] = m["@id"]!.GetValue<string>(),
            ["~thread"] = m["~thread"]!.DeepClone(), ["problem-code"] = "request_not_accepted", ["explain"] = "rejected by the test",
        } });
        var record = await peer.Agent.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true });
        var received = await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(record.Invitation), false);
        var autId = Flows.Str(received, "connection_id");
        if (Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state") == "invitation-received")
            await c.Backchannel.DidExchangeSendRequestAsync(autId);
        await c.Tap.WaitAsync(e => e.Direction == "out" && Harness.Tap.WireTap.TypeNameIs(e, "problem_report"), c.Timeout);
        var state = Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state");
        c.Must("The rejected exchange does not complete.", state != "completed", "not completed", state);
        var again = await DidExchanges.AutAsRequesterAsync(c, complete: true);
        c.Should("A fresh invitation still completes.", again.Complete != null, "completed", "completed");
    }

    [Case("RFC0023-ERRORS-012",
        "These errors do not transition the protocol to the abandoned state: a rejected request leaves the invitation usable, and a corrected request on the same invitation establishes the connection.",
        Level = Level.SHOULD, Section = "errors",
        Description = "The reference requester first sends a request with an unsupported DID method, then a correct request on the same invitation.", Aath = "T009-RFC0023 @wip (a connection can be established given that invitation)")]
    public static async Task Invitation_survives_a_rejected_request(CaseContext c)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1");
        var bad = await c.PeerAsync("Acme", o => o.AutoAccept = true, new Agent.Transport.AgentHostOptions { NoInbound = true });
        bad.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "an unsupported DID method") { Mutate = m => { m["did"] = "did:unsupported:0123"; m.Remove("did_doc~attach"); return m; } });
        try { await bad.Agent.OutOfBand.ReceiveInvitationAsync(inv, new OobReceiveOptions { AutoAccept = true }); }
        catch (Agent.Transport.DeliveryException e) { c.Note("refused at the transport: " + e.Message); }
        c.Must("The responder does not answer the faulty request with a response.", c.Tap.Received("response").Count == 0, "no response", $"{c.Tap.Received("response").Count}");
        var good = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var r = await good.Agent.OutOfBand.ReceiveInvitationAsync(inv, new OobReceiveOptions { AutoAccept = true });
        var autId = await c.EventuallyAsync(async () =>
        {
            try
            {
                var id = known ?? Flows.OptStr(await c.Backchannel.DidExchangeByInvitationAsync(Flows.Str(inv, "@id")), "connection_id");
                return id != null && Flows.OptStr(await c.Backchannel.DidExchangeAsync(id), "state") == "request-received" ? id : null;
            }
            catch (Harness.Drivers.BackchannelException) { return null; }
        });
        c.Should("The corrected request on the same invitation is accepted (state request-received).", autId != null, "request-received", "no such exchange");
        if (autId == null) return;
        await c.Backchannel.DidExchangeSendResponseAsync(autId);
        await Flows.PeerStateAsync(c, good, r.Connection!.Id, "The connection is established given that invitation.", "completed");
    }
}
