using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.DidExchange;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Dids;

namespace Conformance.Agent.Tests.DidExchange;

/// <summary>The public did:web of an agent and its resolution over loopback.</summary>
public class PublicDidTests
{
    // Known answers from the W3C CCG did:web method specification, §"Read (Resolve)" examples.
    [TestCase("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json")]
    [TestCase("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json")]
    [TestCase("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json")]
    // The stated deviation: loopback hosts over http (test infrastructure has no certificates).
    [TestCase("did:web:127.0.0.1%3A8123", "http://127.0.0.1:8123/.well-known/did.json")]
    [TestCase("did:web:localhost%3A8123#didcomm-0", "http://localhost:8123/.well-known/did.json")]
    [TestCase("did:web:127.0.0.2%3A8123", "https://127.0.0.2:8123/.well-known/did.json")]
    public void DidWeb_resolves_at_the_URL_the_method_defines(string did, string url) =>
        Assert.That(DidWebResolver.DocumentUrl(did).ToString(), Is.EqualTo(url));

    [TestCase("did:web:")]
    [TestCase("did:web:example.com::alice")]
    [TestCase("did:web:evil.com%2Fpath")]
    [TestCase("did:web:user%40evil.com")]
    [TestCase("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")]
    public void Malformed_did_web_is_a_DidException(string did) =>
        Assert.Throws<DidException>(() => DidWebResolver.DocumentUrl(did));

    [Test]
    public void DidWebFor_percent_encodes_the_port()
    {
        Assert.That(PublicDids.DidWebFor(new Uri("http://127.0.0.1:8123/")), Is.EqualTo("did:web:127.0.0.1%3A8123"));
        Assert.That(PublicDids.DidWebFor(new Uri("https://agent.example/")), Is.EqualTo("did:web:agent.example"));
        Assert.That(DidWebResolver.DocumentUrl(PublicDids.DidWebFor(new Uri("http://[::1]:8123/"))).ToString(), Is.EqualTo("http://[::1]:8123/.well-known/did.json"));
    }

    [Test]
    public async Task The_public_DID_is_served_and_resolves_from_another_agent()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var pd = PublicDids.Ensure(bob.Agent);
        Assert.That(PublicDids.Ensure(bob.Agent), Is.SameAs(pd), "created once");
        Assert.That(bob.Agent.Wallet.Holds(pd.Verkey), Is.True);

        var doc = await acme.Agent.Resolver.ResolveAsync(pd.Did + "#didcomm-0");
        Assert.That(doc.Id, Is.EqualTo(pd.Did));
        var service = doc.DidCommServices().Single();
        Assert.That(service.Id, Is.EqualTo(pd.Did + "#didcomm-0"));
        Assert.That(service.RecipientKeys, Is.EqualTo(new[] { pd.Verkey }));
        Assert.That(service.Endpoint, Is.EqualTo(bob.Agent.Endpoint));
        Assert.That(doc.Authentication.Single().Verkey, Is.EqualTo(pd.Verkey));
    }

    [Test]
    public async Task An_agent_without_a_public_DID_answers_404_and_resolution_fails_with_a_reason()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var did = PublicDids.DidWebFor(bob.HttpEndpoint);
        var e = await Assert.ThrowsAsync<DidException>(async () => await acme.Agent.Resolver.ResolveAsync(did));
        Assert.That(e!.Message, Does.Contain("HTTP 404"));
        // Nobody listens on port 1: the backchannel turns this DidException into a 400.
        var r = await Assert.ThrowsAsync<DidException>(() => acme.Agent.DidExchange.CreateRequestToPublicDidAsync("did:web:127.0.0.1%3A1"));
        Assert.That(r!.Message, Does.Contain("could not fetch"));
        Assert.That(acme.Agent.Store.Connections(), Is.Empty);
    }

    [Test]
    public async Task A_served_document_for_another_DID_is_refused()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var key = bob.Agent.Wallet.CreateKey();
        bob.Agent.PublicDid = new PublicDid("did:web:elsewhere.example", key.Verkey, PublicDids.Document("did:web:elsewhere.example", key.Verkey, bob.Agent.Options.Endpoints));
        var e = await Assert.ThrowsAsync<DidException>(async () => await acme.Agent.Resolver.ResolveAsync(PublicDids.DidWebFor(bob.HttpEndpoint)));
        Assert.That(e!.Message, Does.Contain("elsewhere.example"));
    }

    [Test]
    public void A_public_DID_needs_an_endpoint()
    {
        var agent = new ReferenceAgent(new AgentOptions { Label = "Edge" });
        Assert.Throws<InvalidOperationException>(() => PublicDids.Ensure(agent));
    }
}
