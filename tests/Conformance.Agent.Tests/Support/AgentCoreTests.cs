using Conformance.Agent.Core;
using Conformance.Agent.Storage;

namespace Conformance.Agent.Tests.Support;

public class AgentCoreTests
{
    [Test]
    public async Task Garbage_bodies_are_rejected_with_a_reason_and_the_agent_keeps_serving()
    {
        await using var agents = new TestAgents();
        var host = await agents.StartAsync("Alice");
        using var http = new HttpClient();
        foreach (var body in new[] { "", "not json", "{}", "{\"protected\":\"x\",\"iv\":\"y\",\"ciphertext\":\"z\",\"tag\":\"w\"}", new string('[', 10000) })
        {
            using var content = new StringContent(body);
            content.Headers.ContentType = new("application/didcomm-envelope-enc");
            using var r = await http.PostAsync(host.HttpEndpoint, content);
            Assert.That((int)r.StatusCode, Is.EqualTo(400), body.Length > 30 ? body[..30] : body);
            var text = await r.Content.ReadAsStringAsync();
            Assert.That(text, Does.Contain("error").And.Not.Contain("   at "));
        }
        using var status = await http.GetAsync(host.HttpEndpoint);
        Assert.That(status.IsSuccessStatusCode, Is.True, "agent still serving after garbage");
    }

    [Test]
    public async Task Unsupported_media_type_is_415_and_oversized_body_is_413()
    {
        await using var agents = new TestAgents();
        var host = await agents.StartAsync("Alice", o => o.MaxInboundBytes = 1000);
        using var http = new HttpClient();
        using (var c = new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"))
        using (var r = await http.PostAsync(host.HttpEndpoint, c))
            Assert.That((int)r.StatusCode, Is.EqualTo(415));
        using (var c = new StringContent(new string('x', 5000), System.Text.Encoding.UTF8, "application/didcomm-envelope-enc"))
        using (var r = await http.PostAsync(host.HttpEndpoint, c))
            Assert.That((int)r.StatusCode, Is.EqualTo(413));
    }

    [Test]
    public void Seeded_agents_create_the_same_keys_and_ids()
    {
        var a = new ReferenceAgent(new AgentOptions { Seed = "s", Label = "A" });
        var b = new ReferenceAgent(new AgentOptions { Seed = "s", Label = "A" });
        Assert.That(a.Wallet.CreateKey().Verkey, Is.EqualTo(b.Wallet.CreateKey().Verkey));
        Assert.That(a.NewId(), Is.EqualTo(b.NewId()));
        Assert.That(a.Clock.Now(), Is.EqualTo(b.Clock.Now()));
        var c = new ReferenceAgent(new AgentOptions { Seed = "other", Label = "A" });
        Assert.That(c.Wallet.CreateKey().Verkey, Is.Not.EqualTo(a.Wallet.CreateKey().Verkey));
    }

    [Test]
    public void Sqlite_store_keeps_records_keys_and_queue_across_reopen()
    {
        var path = Path.Combine(Path.GetTempPath(), $"conformance-{Guid.NewGuid():N}.db");
        try
        {
            string verkey;
            using (var store = AgentStore.OpenSqlite(path))
            {
                var wallet = new Wallet(store, Conformance.Wire.Crypto.Entropy.System);
                verkey = wallet.CreateKey().Verkey;
                store.Save(new ConnectionRecord { Id = "c1", Protocol = "connections/1.0", State = "invited" });
                store.Enqueue("key-a", "m1", [1, 2, 3], DateTimeOffset.UnixEpoch);
                store.Enqueue("key-a", "m2", [4], DateTimeOffset.UnixEpoch);
                Assert.That(store.Remove(["key-a"], ["m1"]), Is.EqualTo(1));
            }
            using (var store = AgentStore.OpenSqlite(path))
            {
                Assert.That(store.GetConnection("c1")?.State, Is.EqualTo("invited"));
                Assert.That(new Wallet(store, Conformance.Wire.Crypto.Entropy.System).Holds(verkey), Is.True);
                var q = store.Peek(["key-a"], 10);
                Assert.That(q.Select(m => m.MessageId), Is.EqualTo(new[] { "m2" }));
                Assert.That(q[0].Envelope, Is.EqualTo(new byte[] { 4 }));
            }
        }
        finally
        {
            foreach (var f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
        }
    }
}
