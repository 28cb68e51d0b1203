using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.DidExchange;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;
using static Conformance.Agent.Tests.DidExchange.DidExchangeKit;

namespace Conformance.Agent.Tests.DidExchange;

/// <summary>RFC 0023 flows between two reference agents on loopback Kestrel hosts.</summary>
public class DidExchangeFlowTests
{
    private static readonly string[] RequesterStates = ["start", "invitation-received", "request-sent", "response-received", "completed"];
    private static readonly string[] ResponderStates = ["start", "request-received", "response-sent", "completed"];

    [Test]
    public async Task Explicit_invitation_1_1_auto_accept_walks_every_state_and_threads_every_message()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var invitation = await InvitationAsync(bob.Agent);

        var a = await AcceptAsync(acme.Agent, invitation, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        b = await TestAgents.WaitForStateAsync(bob.Agent, b.Id, "completed");

        Assert.That(a.History, Is.EqualTo(RequesterStates));
        Assert.That(b.History, Is.EqualTo(ResponderStates));
        Assert.That(a.Protocol, Is.EqualTo("didexchange/1.1"));
        Assert.That(b.Protocol, Is.EqualTo("didexchange/1.1"));

        var request = Sent(agents, "Acme", "request").Single();
        var response = Sent(agents, "Bob", "response").Single();
        var complete = Sent(agents, "Acme", "complete").Single();
        Assert.Multiple(() =>
        {
            Assert.That(Str(request["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.1/request"));
            // RFC 0023: pthid = the invitation's @id; thid (if given) = the request's @id.
            Assert.That(Str(request["~thread"]!["pthid"]), Is.EqualTo(invitation.Id));
            Assert.That(Str(request["~thread"]!["thid"]), Is.EqualTo(Str(request["@id"])));
            Assert.That(a.ThreadId, Is.EqualTo(Str(request["@id"])));
            Assert.That(b.ThreadId, Is.EqualTo(a.ThreadId));
            Assert.That(b.ParentThreadId, Is.EqualTo(invitation.Id));
            Assert.That(Str(request["label"]), Is.EqualTo("Acme"));
            Assert.That(Str(request["did"]), Does.StartWith("did:peer:4"), "AgentOptions default method");
            Assert.That(request.ContainsKey("did_doc~attach"), Is.False, "a long did:peer:4 resolves by itself; RFC 0023: the attachment should not be included");

            Assert.That(Str(response["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.1/response"));
            Assert.That(Str(response["~thread"]!["thid"]), Is.EqualTo(a.ThreadId));
            Assert.That(Str(complete["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.1/complete"));
            Assert.That(Str(complete["~thread"]!["thid"]), Is.EqualTo(a.ThreadId));
            Assert.That(Str(complete["~thread"]!["pthid"]), Is.EqualTo(invitation.Id), "complete pthid must be identical to the request's");

            // Each side knows the other's DID and document.
            Assert.That(a.TheirDid, Is.EqualTo(b.MyDid));
            Assert.That(b.TheirDid, Is.EqualTo(a.MyDid));
            Assert.That(b.TheirLabel, Is.EqualTo("Acme"));
            Assert.That(a.TheirLabel, Is.EqualTo("Bob"));
            Assert.That(a.TheirDidDoc, Is.Not.Null);
            Assert.That(b.TheirDidDoc, Is.Not.Null);
        });

        // 1.1 provenance: did_rotate~attach = the new DID, signed by the invitation key.
        var rotate = Attachment.FromJson((JsonObject)response["did_rotate~attach"]!);
        Assert.That(AttachmentJws.Verify(rotate), Is.EqualTo(invitation.RecipientKey));
        Assert.That(System.Text.Encoding.UTF8.GetString(rotate.Bytes()), Is.EqualTo(Str(response["did"])));
        Assert.That(response.ContainsKey("did_doc~attach"), Is.False, "did:peer:4 resolves by itself");
        Assert.That(bob.Agent.Store.GetInvitation(invitation.Id)!.UseCount, Is.EqualTo(1), "the request claimed the invitation");

        // The connection carries messages both ways.
        await PingAsync(acme.Agent, a, agents, "Acme");
        await PingAsync(bob.Agent, b, agents, "Bob");
    }

    [Test]
    public async Task Explicit_invitation_1_0_signs_the_did_doc_with_the_invitation_key()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var invitation = await InvitationAsync(bob.Agent, [V10]);

        var a = await AcceptAsync(acme.Agent, invitation, V10);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");

        Assert.That(a.Protocol, Is.EqualTo("didexchange/1.0"));
        Assert.That(b.Protocol, Is.EqualTo("didexchange/1.0"));
        Assert.That(Str(Sent(agents, "Acme", "request").Single()["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.0/request"));
        var response = Sent(agents, "Bob", "response").Single();
        Assert.That(Str(response["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.0/response"));
        Assert.That(response.ContainsKey("did_rotate~attach"), Is.False, "did_rotate~attach is 1.1");
        var doc = Attachment.FromJson((JsonObject)response["did_doc~attach"]!);
        Assert.That(AttachmentJws.Verify(doc), Is.EqualTo(invitation.RecipientKey));
        Assert.That(DidDocument.FromJson((JsonObject)doc.JsonContent()).IsNamed(Str(response["did"])!), Is.True);
        Assert.That(Str(Sent(agents, "Acme", "complete").Single()["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.0/complete"));
    }

    private static IEnumerable<TestCaseData> MethodPairs()
    {
        string[] methods = ["peer:1", "peer:2", "peer:4", "unqualified"];
        foreach (var requester in methods)
            foreach (var responder in methods)
                yield return new TestCaseData("1.1", requester, responder).SetName($"1.1 requester {requester} responder {responder}");
        foreach (var method in methods)
            yield return new TestCaseData("1.0", method, method).SetName($"1.0 both {method}");
    }

    [TestCaseSource(nameof(MethodPairs))]
    public async Task Every_DID_method_works_on_either_side(string version, string requesterMethod, string responderMethod)
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob", o => o.DidExchangeDidMethod = responderMethod);
        var acme = await agents.StartAsync("Acme", o => o.DidExchangeDidMethod = requesterMethod);
        var invitation = await InvitationAsync(bob.Agent, [version == "1.0" ? V10 : V11]);

        var a = await AcceptAsync(acme.Agent, invitation, version == "1.0" ? V10 : V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");

        var request = Sent(agents, "Acme", "request").Single();
        var response = Sent(agents, "Bob", "response").Single();
        Assert.Multiple(() =>
        {
            Assert.That(a.TheirDid, Is.EqualTo(b.MyDid));
            Assert.That(b.TheirDid, Is.EqualTo(a.MyDid));
            Assert.That(Prefix(a.MyDid!), Is.EqualTo(Prefix(requesterMethod)));
            Assert.That(Prefix(b.MyDid!), Is.EqualTo(Prefix(responderMethod)));
            // RFC 0023: the document is attached only when the DID does not resolve by itself.
            var needsDoc = requesterMethod is "peer:1" or "unqualified";
            Assert.That(request.ContainsKey("did_doc~attach"), Is.EqualTo(needsDoc), "request did_doc~attach");
            Assert.That(response.ContainsKey("did_doc~attach"), Is.EqualTo(version == "1.0" || responderMethod is "peer:1" or "unqualified"), "response did_doc~attach");
            Assert.That(response.ContainsKey("did_rotate~attach"), Is.EqualTo(version == "1.1"), "response did_rotate~attach");
            // The stored documents are the other side's.
            Assert.That(DidDocument.FromJson(a.TheirDidDoc!).IsNamed(b.MyDid!), Is.True);
            Assert.That(DidDocument.FromJson(b.TheirDidDoc!).IsNamed(a.MyDid!), Is.True);
        });
        if (request["did_doc~attach"] is JsonObject rd)
            Assert.That(AttachmentJws.Verify(Attachment.FromJson(rd)), Is.EqualTo(a.MyVerkey), "the requester signs its own document");
        await PingAsync(acme.Agent, a, agents, "Acme");
        await PingAsync(bob.Agent, b, agents, "Bob");
    }

    private static string Prefix(string methodOrDid) => methodOrDid switch
    {
        "unqualified" => "",
        var m when m.StartsWith("peer:") => "did:" + m,
        var d when d.StartsWith("did:peer:") => d[..10],
        _ => "",
    };

    [Test]
    public async Task Manual_mode_waits_for_each_accept()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob", o => o.AutoAccept = false);
        var acme = await agents.StartAsync("Acme", o => o.AutoAccept = false);
        acme.Agent.DidExchange.CompleteAutomatically = false;
        var invitation = await InvitationAsync(bob.Agent);

        var a = await AcceptAsync(acme.Agent, invitation, V11);
        Assert.That(a.State, Is.EqualTo("invitation-received"));
        Assert.That(Sent(agents, "Acme", "request"), Is.Empty);

        await acme.Agent.DidExchange.SendRequestAsync(a.Id);
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        b = await TestAgents.WaitForStateAsync(bob.Agent, b.Id, "request-received");
        Assert.That(a.State, Is.EqualTo("request-sent"));
        Assert.That(Sent(agents, "Bob", "response"), Is.Empty);

        await bob.Agent.DidExchange.AcceptRequestAsync(b.Id);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "response-received");
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("response-sent"));
        Assert.That(Sent(agents, "Acme", "complete"), Is.Empty);

        await acme.Agent.DidExchange.AcceptResponseAsync(a.Id);
        await TestAgents.WaitForStateAsync(bob.Agent, b.Id, "completed");
        Assert.That(acme.Agent.Store.GetConnection(a.Id)!.History, Is.EqualTo(RequesterStates));
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.History, Is.EqualTo(ResponderStates));

        // Out-of-order accepts are refused (the backchannel answers 400).
        await Assert.ThrowsAsync<InvalidOperationException>(() => bob.Agent.DidExchange.AcceptRequestAsync(b.Id));
        await Assert.ThrowsAsync<InvalidOperationException>(() => acme.Agent.DidExchange.SendRequestAsync(a.Id));
        await Assert.ThrowsAsync<InvalidOperationException>(() => acme.Agent.DidExchange.AcceptResponseAsync(a.Id));
    }

    [Test]
    public async Task Manual_requester_still_completes_by_default_as_the_AATH_flow_expects()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob", o => o.AutoAccept = false);
        var acme = await agents.StartAsync("Acme", o => o.AutoAccept = false);
        var invitation = await InvitationAsync(bob.Agent, autoAccept: false);

        var a = await AcceptAsync(acme.Agent, invitation, V11, autoAccept: false);
        await acme.Agent.DidExchange.SendRequestAsync(a.Id);
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "request-received");
        await bob.Agent.DidExchange.AcceptRequestAsync(b.Id);
        // AATH: '"Acme" receives the response' expects "completed"; there is no send-complete step.
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        await TestAgents.WaitForStateAsync(bob.Agent, b.Id, "completed");
    }

    [Test]
    public async Task A_1_1_request_to_a_1_0_invitation_is_answered_in_1_1()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var invitation = await InvitationAsync(bob.Agent, [V10]);

        // Credo answers every didexchange 1.x invitation with 1.1 messages.
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");
        Assert.That(b.Protocol, Is.EqualTo("didexchange/1.1"), "the responder answers in the minor version of the request");
        var response = Sent(agents, "Bob", "response").Single();
        Assert.That(Str(response["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.1/response"));
        Assert.That(response.ContainsKey("did_rotate~attach"), Is.True);
    }

    [Test]
    public async Task A_1_0_requester_gets_a_1_0_response_to_a_1_1_invitation()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme", o => o.DidExchangeVersion = "1.0");
        var invitation = await InvitationAsync(bob.Agent, [V11]);

        var a = await AcceptAsync(acme.Agent, invitation, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        Assert.That(a.Protocol, Is.EqualTo("didexchange/1.0"), "the requester speaks the lower of the invitation's and its own version");
        var response = Sent(agents, "Bob", "response").Single();
        Assert.That(Str(response["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.0/response"));
        Assert.That(response.ContainsKey("did_doc~attach"), Is.True);
    }

    [Test]
    public async Task Legacy_prefix_request_is_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "legacy did:sov prefix on the request")
        {
            Mutate = j => { j["@type"] = "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/didexchange/1.1/request"; return j; },
        });
        var invitation = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
    }

    [Test]
    public async Task Implicit_invitation_through_a_did_web_public_DID()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var publicDid = bob.Agent.DidExchange.EnsurePublicDid();
        Assert.That(publicDid.Did, Is.EqualTo($"did:web:127.0.0.1%3A{bob.HttpEndpoint.Port}"));
        Assert.That(acme.Agent.Resolver.CanResolve(publicDid.Did), Is.True);

        var a = await acme.Agent.DidExchange.CreateRequestToPublicDidAsync(publicDid.Did);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");

        var request = Sent(agents, "Acme", "request").Single();
        // RFC 0023: "its ~thread.pthid MUST contain a DID URL that resolves to the specific service"
        Assert.That(Str(request["~thread"]!["pthid"]), Is.EqualTo(publicDid.Did + "#didcomm-0"));
        Assert.That(a.ParentThreadId, Is.EqualTo(publicDid.Did + "#didcomm-0"));
        Assert.That(b.InvitationId, Is.EqualTo(publicDid.Did), "the backchannel finds the connection by the public DID");
        Assert.That(a.InvitationKey, Is.EqualTo(publicDid.Verkey));
        var rotate = Attachment.FromJson((JsonObject)Sent(agents, "Bob", "response").Single()["did_rotate~attach"]!);
        Assert.That(AttachmentJws.Verify(rotate), Is.EqualTo(publicDid.Verkey), "the rotation is signed by the public DID's key");
        Assert.That(a.TheirDid, Is.EqualTo(b.MyDid), "the responder rotates to a new peer DID");
        await PingAsync(acme.Agent, a, agents, "Acme");
    }

    [Test]
    public async Task Explicit_invitation_naming_the_public_DID_as_its_service()
    {
        // AATH T003-RFC0023: "Bob sends an explicit invitation with a public DID".
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var invitation = await InvitationAsync(bob.Agent, usePublicDid: true);
        var publicDid = bob.Agent.PublicDid!;
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");
        Assert.That(a.InvitationKey, Is.EqualTo(publicDid.Verkey), "the request went to the public DID's key");
        Assert.That(b.ParentThreadId, Is.EqualTo(invitation.Id), "an explicit invitation: pthid is its @id");
        Assert.That(b.InvitationId, Is.EqualTo(invitation.Id));
    }

    [Test]
    public async Task X25519_recipient_key_is_mapped_to_the_Ed25519_key_it_derives_from()
    {
        // Credo's findMatchingEd25519Key: a document may name its X25519 key as the DIDComm v1 recipient.
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme", o => o.DidExchangeDidMethod = "unqualified");
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "recipient key given as the X25519 key")
        {
            Mutate = j =>
            {
                var doc = AttachedJson(j, "did_doc~attach");
                var id = Str(doc["id"])!;
                var ed = Conformance.Wire.Encoding.Base58.Decode(Str(doc["publicKey"]![0]!["publicKeyBase58"])!);
                var x = Conformance.Wire.Crypto.Sodium.Ed25519PublicToX25519(ed);
                doc["publicKey"]!.AsArray().Add(new JsonObject
                {
                    ["id"] = id + "#2", ["type"] = "X25519KeyAgreementKey2019", ["controller"] = id,
                    ["publicKeyBase58"] = Conformance.Wire.Encoding.Base58.Encode(x),
                });
                doc["service"]![0]!["recipientKeys"] = new JsonArray(id + "#2");
                return WithUnsignedDoc(j, doc);
            },
        });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        Assert.That(b.TheirService!.RecipientKeys, Is.EqualTo(new[] { a.MyVerkey }));
    }

    [Test]
    public async Task Request_to_a_public_DID_in_manual_mode_is_sent_and_waits_for_the_responder()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob", o => o.AutoAccept = false);
        var acme = await agents.StartAsync("Acme", o => o.AutoAccept = false);
        var publicDid = bob.Agent.DidExchange.EnsurePublicDid();
        var a = await acme.Agent.DidExchange.CreateRequestToPublicDidAsync(publicDid.Did + "#didcomm-0", autoAccept: false);
        Assert.That(a.State, Is.EqualTo("request-sent"));
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "request-received");
        await bob.Agent.DidExchange.AcceptRequestAsync(b.Id);
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        await TestAgents.WaitForStateAsync(bob.Agent, b.Id, "completed");
    }

    [Test]
    public async Task Edge_requester_without_endpoint_connects_over_return_route()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme", host: Edge);
        var invitation = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");
        Assert.That(b.TheirService!.Endpoint, Is.EqualTo("didcomm:transport/queue"));
        Assert.That(agents.Wire.Any(w => w.Agent == "Bob" && w.Event.Transport == "return-route" && w.Event.Type!.EndsWith("/response")), Is.True);
    }

    [Test]
    public async Task Multi_use_invitation_makes_one_connection_per_request()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var carol = await agents.StartAsync("Carol");
        var invitation = await InvitationAsync(bob.Agent, multiUse: true);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        var c = await AcceptAsync(carol.Agent, invitation, V11);
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        await TestAgents.WaitForStateAsync(carol.Agent, c.Id, "completed");
        var bobs = bob.Agent.Store.FindConnections(x => x.ParentThreadId == invitation.Id);
        Assert.That(bobs.Select(x => x.TheirLabel), Is.EquivalentTo(new[] { "Acme", "Carol" }));
        Assert.That(bobs.Select(x => x.MyDid).Distinct().Count(), Is.EqualTo(2), "a new DID per relationship");
    }

    [Test]
    public async Task Short_form_did_peer_4_with_its_long_form_document_is_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "short did:peer:4 with the long form's document attached")
        {
            Mutate = j =>
            {
                var longForm = Str(j["did"])!;
                j["did"] = DidPeer.Numalgo4Short(longForm);
                return WithUnsignedDoc(j, DidPeer.Resolve(longForm).Json);
            },
        });
        var invitation = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");
        Assert.That(b.TheirDid, Is.EqualTo(DidPeer.Numalgo4Short(a.MyDid!)));
        Assert.That(bob.Agent.Resolver.Resolve(b.TheirDid!).IsNamed(a.MyDid!), Is.True, "the short form now resolves to the long form's document");
    }

    [Test]
    public async Task Edge_requester_with_a_did_key_is_answered_on_return_route()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme", host: Edge);
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "did:key as the requester's DID")
        {
            Mutate = j =>
            {
                var doc = DidPeer.Resolve(Str(j["did"])!);
                j["did"] = doc.VerificationMethods[0].AsDidKey;
                j.Remove("did_doc~attach");
                return j;
            },
        });
        var invitation = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        await TestAgents.WaitForStateAsync(bob.Agent, b.Id, "completed");
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.TheirDid, Does.StartWith("did:key:z6Mk"));
    }

    [Test]
    public async Task Complete_on_an_existing_connection_naming_a_new_invitation_is_a_reuse()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var first = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, first, V11);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");

        var second = await InvitationAsync(bob.Agent);
        await acme.Agent.DidExchange.SendReuseCompleteAsync(a, second.Id);
        var reuse = await TestAgents.WaitForAsync(() => agents.Events.FirstOrDefault(e => e.Agent == "Bob" && e.Event.Kind == AgentEvent.ReuseAccepted).Event,
            "Bob to accept the reuse");
        Assert.That(reuse.ConnectionId, Is.EqualTo(b.Id));
        Assert.That(reuse.ThreadId, Is.EqualTo(second.Id), "out-of-band announces the reuse under the invitation's id");
        Assert.That(bob.Agent.Store.GetInvitation(second.Id)!.UseCount, Is.EqualTo(1), "the reuse counts as the invitation's use");
        Assert.That(bob.Agent.Store.FindConnections(x => x.Role == ConnectionRole.Inviter), Has.Count.EqualTo(1), "no new connection");
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("completed"));
    }

    [Test]
    public async Task Seeded_requesters_write_byte_identical_requests()
    {
        // AgentOptions.Seed: "the same flow produces byte-identical messages". An edge requester's DID holds no port.
        async Task<string> RequestOf(string seed)
        {
            await using var agents = new TestAgents();
            var bob = await agents.StartAsync("Bob", o => o.Seed = "bob");
            var acme = await agents.StartAsync("Acme", o => o.Seed = seed, Edge);
            var invitation = await InvitationAsync(bob.Agent);
            var a = await AcceptAsync(acme.Agent, invitation, V11);
            await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
            return Sent(agents, "Acme", "request").Single().ToJsonString();
        }
        var one = await RequestOf("acme");
        Assert.That(await RequestOf("acme"), Is.EqualTo(one));
        Assert.That(await RequestOf("other"), Is.Not.EqualTo(one));
    }

    internal static async Task PingAsync(ReferenceAgent from, ConnectionRecord c, TestAgents agents, string label)
    {
        var id = await from.TrustPing.SendPingAsync(from.Store.GetConnection(c.Id)!);
        await TestAgents.WaitUntilAsync(() => agents.Events.Any(e => e.Agent == label && e.Event.Kind == AgentEvent.TrustPingResponse && e.Event.ThreadId == id),
            $"{label} to get the ping response");
    }
}
