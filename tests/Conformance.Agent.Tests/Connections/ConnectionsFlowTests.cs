// Reference ↔ reference connections/1.0 flows over HTTP loopback (RFC 0160 §0–§3).
using System.Text.Json.Nodes;
using Conformance.Agent.Connections;
using Conformance.Agent.Core;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;
using static Conformance.Agent.Tests.Connections.Wire;

namespace Conformance.Agent.Tests.Connections;

public class ConnectionsFlowTests
{
    private static readonly string[] AllStates = ["invited", "requested", "responded", "complete"];

    [Test]
    public async Task Inline_keys_invitation_auto_accept_walks_every_state_and_signs_with_the_invitation_key()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;

        var (inv, invitation, url) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        // RFC 0160 §0 "Invitation Message with Keys and URL endpoint".
        Assert.That(Str(invitation["@type"]), Is.EqualTo("https://didcomm.org/connections/1.0/invitation"));
        Assert.That(Str(invitation["label"]), Is.EqualTo("Alice"));
        Assert.That(invitation["recipientKeys"]!.AsArray().Select(Str), Is.EqualTo(new[] { inv.RecipientKey }));
        Assert.That(Str(invitation["serviceEndpoint"]), Is.EqualTo(alice.Endpoint));
        Assert.That(invitation["routingKeys"]!.AsArray(), Is.Empty);
        Assert.That(url, Does.StartWith(alice.Endpoint + "?c_i="));
        Assert.That(JsonNode.DeepEquals(Conformance.Wire.Invitations.InvitationUrl.Decode(url).Message, invitation), Is.True);
        // Single use: the inviter's record exists from the start, in state invited (AATH reads its id at creation).
        Assert.That(inv.ConnectionId, Is.Not.Null);
        Assert.That(alice.Store.GetConnection(inv.ConnectionId!)!.State, Is.EqualTo("invited"));

        var bobStart = await bob.Connections.ReceiveInvitationAsync(invitation);
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        var b = await TestAgents.WaitForStateAsync(bob, bobStart.Id, "complete");
        Assert.That(a.History, Is.EqualTo(AllStates), "inviter states");
        Assert.That(b.History, Is.EqualTo(AllStates), "invitee states");
        Assert.That(a.Role, Is.EqualTo(ConnectionRole.Inviter));
        Assert.That(b.Role, Is.EqualTo(ConnectionRole.Invitee));

        // §1 request: label, connection {DID, DIDDoc} with the legacy RFC 0160 DIDDoc and an unqualified DID.
        var request = Sent(agents, "Bob", "connections/1.0/request").Single();
        Assert.That(Str(request["@type"]), Is.EqualTo("https://didcomm.org/connections/1.0/request"));
        Assert.That(Str(request["label"]), Is.EqualTo("Bob"));
        Assert.That(request["~thread"], Is.Null, "no pthid for a c_i invitation");
        var did = Str(request["connection"]!["DID"]);
        var doc = request["connection"]!["DIDDoc"]!.AsObject();
        Assert.That(LegacyDidDoc.IsUnqualifiedDid(did), Is.True);
        Assert.That(Str(doc["@context"]), Is.EqualTo("https://w3id.org/did/v1"));
        Assert.That(Str(doc["id"]), Is.EqualTo("did:sov:" + did));
        Assert.That(Str(doc["publicKey"]![0]!["publicKeyBase58"]), Is.EqualTo(b.MyVerkey));
        Assert.That(Str(doc["service"]![0]!["type"]), Is.EqualTo("IndyAgent"));
        Assert.That(Str(doc["service"]![0]!["serviceEndpoint"]), Is.EqualTo(bob.Endpoint));
        var requestEvent = Events(agents, "Bob", "out", "connections/1.0/request").Single();
        Assert.That(requestEvent.RecipientVerkey, Is.EqualTo(inv.RecipientKey), "§1: encoded using the recipientKeys present in the invitation");
        Assert.That(requestEvent.SenderVerkey, Is.EqualTo(b.MyVerkey));

        // §2 response: ~thread.thid = request @id, connection~sig by the invitation key over the inviter's new DID.
        var response = Sent(agents, "Alice", "connections/1.0/response").Single();
        Assert.That(Thid(response), Is.EqualTo(Str(request["@id"])));
        Assert.That(response["connection"], Is.Null, "the connection attribute travels only inside sig_data");
        var sig = SignatureDecorator.Verify(response["connection~sig"]!.AsObject());
        Assert.That(sig.SignerVerkey, Is.EqualTo(inv.RecipientKey));
        Assert.That(Str(sig.Value["DID"]), Is.EqualTo(a.MyDid));
        Assert.That(JsonNode.DeepEquals(sig.Value["DIDDoc"], a.MyDidDoc), Is.True);
        Assert.That(a.MyVerkey, Is.Not.EqualTo(inv.RecipientKey), "the inviter provisions a new key for the connection");
        Assert.That(Events(agents, "Alice", "out", "connections/1.0/response").Single().SenderVerkey, Is.EqualTo(a.MyVerkey));

        // §3 ack: the invitee sends a trust ping; the inviter completes on receipt.
        var ping = Events(agents, "Alice", "in", "trust_ping/1.0/ping").Single();
        Assert.That(ping.ConnectionId, Is.EqualTo(a.Id));

        Assert.That((a.TheirDid, b.TheirDid), Is.EqualTo((b.MyDid, a.MyDid)));
        Assert.That(a.ThreadId, Is.EqualTo(Str(request["@id"])));
        Assert.That(b.ThreadId, Is.EqualTo(a.ThreadId));
        Assert.That(b.TheirService!.RecipientKeys, Is.EqualTo(new[] { a.MyVerkey }), "§2: the new DID is used going forward");
        Assert.That(a.TheirLabel, Is.EqualTo("Bob"));
        Assert.That(b.TheirLabel, Is.EqualTo("Alice"));

        // Seed 004 §4: both sides get the same comparison codes over the pair of documents.
        Assert.That(a.Mitm, Is.Not.Null);
        Assert.That(b.Mitm, Is.Not.Null);
        Assert.That((a.Mitm!.Sum, a.Mitm.Product), Is.EqualTo((b.Mitm!.Sum, b.Mitm.Product)));
        Assert.That(a.Mitm.Sum, Has.Length.EqualTo(6));
    }

    [Test]
    public async Task Manual_accept_waits_for_each_step_and_the_invitee_acknowledges_the_response()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice", o => o.AutoAccept = false)).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;   // agent default auto; overridden per record below

        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        var b = await bob.Connections.ReceiveInvitationAsync(invitation, autoAccept: false);
        Assert.That(b.State, Is.EqualTo("invited"));
        Assert.That(Sent(agents, "Bob", "connections/1.0/request"), Is.Empty);

        b = await bob.Connections.AcceptInvitationAsync(b.Id);
        Assert.That(b.State, Is.EqualTo("requested"));
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "requested");
        Assert.That(Sent(agents, "Alice", "connections/1.0/response"), Is.Empty, "manual: no response before AcceptRequestAsync");
        Assert.That(() => bob.Connections.AcceptRequestAsync(b.Id), Throws.InvalidOperationException, "the invitee cannot send a response");

        a = await alice.Connections.AcceptRequestAsync(a.Id);
        // §3: "The invitee SHOULD send a message to the inviter" — the reference invitee acknowledges with a trust
        // ping in manual mode too (accepting the invitation was the decision), and is complete once it is sent.
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        Assert.That(Sent(agents, "Bob", "trust_ping/1.0/ping"), Has.Count.EqualTo(1), "the ack ping");
        a = await TestAgents.WaitForStateAsync(alice, a.Id, "complete");
        Assert.That(a.History, Is.EqualTo(AllStates));
        Assert.That(bob.Store.GetConnection(b.Id)!.History, Is.EqualTo(AllStates));
        Assert.That(() => alice.Connections.AcceptRequestAsync(a.Id), Throws.InvalidOperationException, "no response from complete");
    }

    [Test]
    public async Task Legacy_prefix_invitation_gets_legacy_messages_both_ways()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { LegacyPrefix = true });
        Assert.That(Str(invitation["@type"]), Is.EqualTo("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/invitation"));

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        Assert.That(Str(Sent(agents, "Bob", "connections/1.0/request").Single()["@type"]), Is.EqualTo(DocUris.LegacySov + "connections/1.0/request"));
        var response = Sent(agents, "Alice", "connections/1.0/response").Single();
        Assert.That(Str(response["@type"]), Is.EqualTo(DocUris.LegacySov + "connections/1.0/response"));
        Assert.That(Str(response["connection~sig"]!["@type"]), Is.EqualTo(SignatureDecorator.LegacySigType));
    }

    [Test]
    public async Task The_inviter_replies_in_the_prefix_the_invitee_used()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        bob.Misbehaviour.Add(new MisbehaviourRule("request", "request sent with the legacy @type prefix")
        {
            Mutate = j => { j["@type"] = DocUris.LegacySov + "connections/1.0/request"; return j; },
        });
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        Assert.That(Str(Sent(agents, "Alice", "connections/1.0/response").Single()["@type"]), Is.EqualTo(DocUris.LegacySov + "connections/1.0/response"));
    }

    [Test]
    public async Task Public_did_invitation_resolves_the_did_and_the_response_is_signed_by_its_key()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var pd = MakePublicDid(alice);

        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { Form = ConnectionsInvitationForm.PublicDid });
        // RFC 0160 §0 "Invitation Message with Public Invitation DID".
        Assert.That(Str(invitation["did"]), Is.EqualTo(pd.Did));
        Assert.That(invitation.ContainsKey("recipientKeys"), Is.False);
        Assert.That((inv.Kind, inv.MultiUse, inv.ConnectionId), Is.EqualTo(("public-did", true, (string?)null)));

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        Assert.That(b.InvitationKey, Is.EqualTo(pd.Verkey), "the key of the DID's DIDComm service");
        Assert.That(Events(agents, "Bob", "out", "connections/1.0/request").Single().RecipientVerkey, Is.EqualTo(pd.Verkey));
        var a = alice.Store.FindConnection(c => c.InvitationId == inv.Id)!;
        a = await TestAgents.WaitForStateAsync(alice, a.Id, "complete");
        Assert.That(a.History, Is.EqualTo(new[] { "requested", "responded", "complete" }), "no record exists before a request for a public invitation");
        var sig = SignatureDecorator.Verify(Sent(agents, "Alice", "connections/1.0/response").Single()["connection~sig"]!.AsObject());
        Assert.That(sig.SignerVerkey, Is.EqualTo(pd.Verkey));
    }

    [Test]
    public async Task Implicit_invitation_connects_to_a_public_did_without_any_invitation_message()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var pd = MakePublicDid(alice);

        var b = await bob.Connections.ConnectToPublicDidAsync(pd.Did, label: "Bobby");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        var a = alice.Store.Connections().Single();
        a = await TestAgents.WaitForStateAsync(alice, a.Id, "complete");
        Assert.That(a.InvitationId, Is.EqualTo(pd.Did));
        Assert.That(a.TheirLabel, Is.EqualTo("Bobby"));
        Assert.That(alice.Store.Invitations(), Is.Empty);
    }

    [Test]
    public async Task Did_service_endpoint_invitation_appends_the_agency_key_to_the_routing_keys()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var pd = MakePublicDid(alice);   // the "agency": its service points at Alice's endpoint, its key is Alice's

        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { Form = ConnectionsInvitationForm.DidServiceEndpoint });
        // RFC 0160 §0 "Invitation Message with Keys and DID Service Endpoint Reference".
        var serviceRef = Str(invitation["serviceEndpoint"]);
        Assert.That(serviceRef, Does.StartWith(pd.Did + "#"));
        Assert.That(invitation["recipientKeys"]!.AsArray().Select(Str), Is.EqualTo(new[] { inv.RecipientKey }));
        Assert.That(inv.RecipientKey, Is.Not.EqualTo(pd.Verkey));

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        // "That key is appended to the end of the list of routingKeys for processing": the request's outer envelope
        // is for the agency key (Bob's service record already holds Alice's new DID doc once the response arrived,
        // because Alice opens forwards to her own keys at once).
        var outer = Events(agents, "Bob", "out", "connections/1.0/request").Single();
        Assert.That(Rfc0019.RecipientKids(outer.Envelope!), Is.EqualTo(new[] { pd.Verkey }), "the endpoint opens a forward for the agency key");
        if (alice.Store.GetConnection(inv.ConnectionId!)!.State == "invited")
        {
            var forward = await RelayForwardAsync(agents, "Alice", alice);
            Assert.That(Str(forward["to"]), Is.EqualTo(inv.RecipientKey));
        }
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
    }

    [Test]
    public async Task Routing_keys_in_the_invitation_wrap_the_request_in_a_forward_the_inviter_can_open()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var routingKey = alice.Wallet.CreateKey().Verkey;

        // Given as did:key, written inline as base58 (§0: "must be inline keys ... base58 encoded").
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { RoutingKeys = [DidKey.FromVerkey(routingKey)] });
        Assert.That(invitation["routingKeys"]!.AsArray().Select(Str), Is.EqualTo(new[] { routingKey }));

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var outer = Events(agents, "Bob", "out", "connections/1.0/request").Single();
        Assert.That(Rfc0019.RecipientKids(outer.Envelope!), Is.EqualTo(new[] { routingKey }));
        var forwardIn = Events(agents, "Alice", "in", "routing/1.0/forward").Single();
        Assert.That(forwardIn.RecipientVerkey, Is.EqualTo(routingKey));
        Assert.That(Str(forwardIn.Plaintext!["to"]), Is.EqualTo(inv.RecipientKey), "§1: the innermost forward names the invitation key");
        Assert.That(Rfc0019.RecipientKids(forwardIn.Plaintext["msg"]!.ToJsonString()), Is.EqualTo(new[] { inv.RecipientKey }));

        if (alice.Store.GetConnection(inv.ConnectionId!)!.State == "invited") await RelayForwardAsync(agents, "Alice", alice);
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
    }

    [Test]
    public async Task Multi_use_invitation_by_url_padded_unpadded_and_with_did_key_recipient_keys()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var carol = (await agents.StartAsync("Carol")).Agent;
        var dave = (await agents.StartAsync("Dave")).Agent;

        // Find an invitation whose base64url form needs padding, so padded and unpadded really differ.
        InvitationRecord inv; JsonObject invitation; string url;
        do (inv, invitation, url) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { MultiUse = true });
        while (!url.EndsWith('='));
        Assert.That(inv.ConnectionId, Is.Null, "a multi-use invitation has no record until a request arrives");
        var unpadded = url.TrimEnd('=');
        var withDidKey = (JsonObject)invitation.DeepClone();
        withDidKey["recipientKeys"] = new JsonArray(DidKey.FromVerkey(inv.RecipientKey));   // tolerated on receipt

        var b = await bob.Connections.ReceiveInvitationUrlAsync(url);
        var c = await carol.Connections.ReceiveInvitationUrlAsync(unpadded);
        var d = await dave.Connections.ReceiveInvitationAsync(withDidKey);
        foreach (var (agent, rec) in new[] { (bob, b), (carol, c), (dave, d) })
            await TestAgents.WaitForStateAsync(agent, rec.Id, "complete");
        await TestAgents.WaitUntilAsync(() => alice.Store.Connections().Count(x => x.State == "complete") == 3, "three inviter records complete");
        Assert.That(alice.Store.Connections().Select(x => x.TheirLabel), Is.EquivalentTo(new[] { "Bob", "Carol", "Dave" }));
        Assert.That(alice.Store.GetInvitation(inv.Id)!.UseCount, Is.EqualTo(3));
    }

    [Test]
    public async Task Oob_invitation_with_connections_handshake_sends_pthid()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var (inv, _, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        // An RFC 0434 invitation (hand-written: the OOB protocol lives in another folder) naming that key.
        var oob = new JsonObject
        {
            ["@type"] = "https://didcomm.org/out-of-band/1.1/invitation",
            ["@id"] = "5f0e3ffb-3f92-4648-9868-0d6f8889e6f3",
            ["label"] = "Alice",
            ["handshake_protocols"] = new JsonArray("https://didcomm.org/connections/1.0"),
            ["services"] = new JsonArray(new JsonObject
            {
                ["id"] = "#inline",
                ["type"] = "did-communication",
                ["recipientKeys"] = new JsonArray(DidKey.FromVerkey(inv.RecipientKey)),
                ["routingKeys"] = new JsonArray(),
                ["serviceEndpoint"] = alice.Endpoint,
            }),
        };
        var b = await bob.Connections.StartFromOobAsync(oob, new OobReceiveOptions());
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        var request = Sent(agents, "Bob", "connections/1.0/request").Single();
        Assert.That(request["~thread"]!["pthid"]!.GetValue<string>(), Is.EqualTo("5f0e3ffb-3f92-4648-9868-0d6f8889e6f3"));
        Assert.That(Thid(request), Is.EqualTo(Str(request["@id"])));
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        Assert.That(a.ParentThreadId, Is.EqualTo("5f0e3ffb-3f92-4648-9868-0d6f8889e6f3"));
        Assert.That(b.ParentThreadId, Is.EqualTo(a.ParentThreadId));
    }

    [TestCase("peer:1", "peer:4")]
    [TestCase("peer:4", "unqualified")]
    public async Task Peer_did_documents_are_accepted_in_request_and_response(string inviteeMethod, string inviterMethod)
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        alice.Connections.DidMethod = inviterMethod;
        bob.Connections.DidMethod = inviteeMethod;
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        Assert.That(a.TheirDid, Does.StartWith(inviteeMethod == "unqualified" ? "" : "did:" + inviteeMethod));
        Assert.That(b.TheirDid, Is.EqualTo(a.MyDid));
        Assert.That(a.Mitm!.Sum, Is.EqualTo(b.Mitm!.Sum));
    }

    [Test]
    public async Task Rfc_example_invitation_url_decodes_and_is_received()
    {
        // RFC 0160 §0 "Example URL" (padded, legacy @type inside) and its decoded invitation.
        const string url = "http://example.com/ssi?c_i=eyJAdHlwZSI6ImRpZDpzb3Y6QnpDYnNOWWhNcmpIaXFaRFRVQVNIZztzcGVjL2Nvbm5lY3Rpb25zLzEuMC9pbnZpdGF0aW9uIiwiQGlkIjoiMTIzNDU2Nzg5MDA5ODc2NTQzMjEiLCJsYWJlbCI6IkFsaWNlIiwicmVjaXBpZW50S2V5cyI6WyI4SEg1Z1lFZU5jM3o3UFlYbWQ1NGQ0eDZxQWZDTnJxUXFFQjNuUzdaZnU3SyJdLCJzZXJ2aWNlRW5kcG9pbnQiOiJodHRwczovL2V4YW1wbGUuY29tL2VuZHBvaW50Iiwicm91dGluZ0tleXMiOlsiOEhINWdZRWVOYzN6N1BZWG1kNTRkNHg2cUFmQ05ycVFxRUIzblM3WmZ1N0siXX0=";
        await using var bob = new ReferenceAgent(new AgentOptions { Label = "Bob" });
        foreach (var u in new[] { url, url.TrimEnd('=') })
        {
            var c = await bob.Connections.ReceiveInvitationUrlAsync(u, autoAccept: false);
            Assert.That(c.State, Is.EqualTo("invited"));
            Assert.That(c.InvitationId, Is.EqualTo("12345678900987654321"));
            Assert.That(c.TheirLabel, Is.EqualTo("Alice"));
            Assert.That(c.InvitationKey, Is.EqualTo("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"));
            Assert.That(c.TheirService!.RoutingKeys, Is.EqualTo(new[] { "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K" }));
            Assert.That(c.TheirService.Endpoint, Is.EqualTo("https://example.com/endpoint"));
        }
    }

    [Test]
    public async Task Invalid_invitations_are_local_errors()
    {
        await using var bob = new ReferenceAgent(new AgentOptions { Label = "Bob" });
        const string key = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
        JsonObject Inv(Action<JsonObject> change)
        {
            var o = new JsonObject
            {
                ["@type"] = "https://didcomm.org/connections/1.0/invitation", ["@id"] = "1234567890",
                ["recipientKeys"] = new JsonArray(key), ["serviceEndpoint"] = "https://example.com/endpoint",
            };
            change(o);
            return o;
        }
        var bad = new Dictionary<string, JsonObject>
        {
            ["DID key reference"] = Inv(o => o["recipientKeys"] = new JsonArray("did:sov:A2wBhNYhMrjHiqZDTUYH7u#1")),
            ["both did and keys"] = Inv(o => o["did"] = "did:sov:QmWbsNYhMrjHiqZDTUTEJs"),
            ["no keys nor did"] = Inv(o => o.Remove("recipientKeys")),
            ["unknown endpoint protocol"] = Inv(o => o["serviceEndpoint"] = "ftp://example.com"),
            ["not an invitation"] = Inv(o => o["@type"] = "https://didcomm.org/connections/1.0/request"),
            ["unresolvable agency DID"] = Inv(o => o["serviceEndpoint"] = "did:sov:A2wBhNYhMrjHiqZDTUYH7u;routeid"),
            ["unresolvable public DID"] = new JsonObject { ["@type"] = "https://didcomm.org/connections/1.0/invitation", ["did"] = "did:sov:QmWbsNYhMrjHiqZDTUTEJs" },
            ["short key"] = Inv(o => o["recipientKeys"] = new JsonArray("8HH5gYEeNc3z7PYX")),
        };
        foreach (var (what, inv) in bad)
            Assert.That(() => bob.Connections.ReceiveInvitationAsync(inv, autoAccept: false),
                Throws.TypeOf<Conformance.Wire.Invitations.InvitationException>().With.Message.Not.Contains("   at "), what);
        Assert.That(bob.Store.Connections(), Is.Empty);
    }

    [Test]
    public async Task Seeded_agents_produce_byte_identical_messages_for_the_same_flow()
    {
        var ports = FreePorts(2);
        async Task<List<string>> Run()
        {
            await using var agents = new TestAgents();
            var alice = (await agents.StartAsync("Alice", o => o.Seed = "alice-seed", new Transport.AgentHostOptions { Port = ports[0] })).Agent;
            var bob = (await agents.StartAsync("Bob", o => o.Seed = "bob-seed", new Transport.AgentHostOptions { Port = ports[1] })).Agent;
            var (inv, invitation, url) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
            var b = await bob.Connections.ReceiveInvitationAsync(invitation);
            await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
            await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
            return [url, .. agents.Wire.Where(w => w.Event.Direction == "out").Select(w => w.Agent + " " + w.Event.Plaintext!.ToJsonString() + " " + w.Event.Envelope)];
        }
        var first = await Run();
        var second = await Run();
        Assert.That(first.Count, Is.GreaterThanOrEqualTo(5), "invitation, request, response, ping, ping_response");
        Assert.That(second, Is.EqualTo(first));
    }

    internal static PublicDid MakePublicDid(ReferenceAgent agent)
    {
        var mine = MyDids.Create(agent, "peer:4");   // long form: resolves from the DID itself, no ledger needed
        var pd = new PublicDid(mine.Did, mine.Key.Verkey, mine.Document);
        agent.PublicDid = pd;
        return pd;
    }

    private static int[] FreePorts(int n)
    {
        var listeners = Enumerable.Range(0, n).Select(_ => new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
