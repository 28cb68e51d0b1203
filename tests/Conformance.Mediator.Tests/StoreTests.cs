using System.Text;

namespace Conformance.Mediator.Tests;

/// <summary>The <see cref="IMessageQueue"/> / <see cref="IMediationStore"/> contract, against both backends.</summary>
[TestFixture("sqlite")]
[TestFixture("memory")]
[TestFixture("postgres")]
public class StoreTests(string kind)
{
    private string _dir = null!;
    private string? _pg;

    [SetUp]
    public void Dir()
    {
        _dir = Directory.CreateTempSubdirectory("mediator-store-").FullName;
        _pg = kind == "postgres" ? PostgresServer.NewDatabase() : null;
    }

    [TearDown]
    public void Clean()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string DbPath => Path.Combine(_dir, "m.db");

    private IMessageQueue Open(TimeSpan? window = null) => kind switch
    {
        "sqlite" => SqliteMediatorStore.Open(DbPath, new SqliteStoreOptions { ReplayWindow = window ?? TimeSpan.FromHours(24) }),
        "postgres" => PostgresMediatorStore.OpenAsync(_pg!, window).GetAwaiter().GetResult(),
        _ => new MemoryMediatorStore(window),
    };

    private static byte[] Env(int i) => Encoding.UTF8.GetBytes($"{{\"ciphertext\":\"{i}\"}}");

    [Test]
    public async Task Concurrent_enqueues_are_all_stored_once_with_unique_increasing_ids()
    {
        await using var q = Open();
        var tasks = Enumerable.Range(0, 400).Select(i => q.EnqueueAsync(ReplayKey.Anonymous("m" + i), "did:o", "did:r", Env(i)).AsTask()).ToArray();
        var stored = await Task.WhenAll(tasks);
        Assert.That(stored.All(s => s is not null), Is.True);
        Assert.That(stored.Select(s => s!.Id).Distinct().Count(), Is.EqualTo(400));
        Assert.That(await q.CountAllAsync(), Is.EqualTo(400));
        var peek = await q.PeekAsync("did:o", null, 1000);
        Assert.That(peek.Select(p => long.Parse(p.Id)), Is.Ordered.Ascending);
        Assert.That(peek.Select(p => Encoding.UTF8.GetString(p.Envelope)).Order(), Is.EqualTo(Enumerable.Range(0, 400).Select(i => Encoding.UTF8.GetString(Env(i))).Order()));
    }

    [Test]
    public async Task A_replay_key_is_accepted_once_per_sender()
    {
        await using var q = Open();
        Assert.That(await q.EnqueueAsync(new ReplayKey("did:a", "1"), "did:o", "did:r", Env(1)), Is.Not.Null);
        Assert.That(await q.EnqueueAsync(new ReplayKey("did:a", "1"), "did:o", "did:r", Env(2)), Is.Null, "same sender, same id");
        Assert.That(await q.EnqueueAsync(new ReplayKey("did:b", "1"), "did:o", "did:r", Env(3)), Is.Not.Null, "another sender may use the id");
        Assert.That(await q.TryMarkSeenAsync(new ReplayKey("did:a", "1")), Is.False, "keys are shared by every operation");
        Assert.That(await q.TryMarkSeenAsync(new ReplayKey("did:a", "2")), Is.True);
        Assert.That(await q.CountAllAsync(), Is.EqualTo(2));
    }

    [Test]
    public async Task Acknowledge_deletes_only_the_owners_messages_and_is_replay_protected()
    {
        await using var q = Open();
        var mine = await q.EnqueueAsync(ReplayKey.Anonymous("1"), "did:o", "did:r", Env(1));
        var theirs = await q.EnqueueAsync(ReplayKey.Anonymous("2"), "did:p", "did:s", Env(2));
        Assert.That(await q.AcknowledgeAsync(new ReplayKey("did:o", "ack1"), "did:o", [mine!.Id, theirs!.Id, "nonsense", "-1"]), Is.EqualTo(1));
        Assert.That(await q.AcknowledgeAsync(new ReplayKey("did:o", "ack1"), "did:o", [mine.Id]), Is.Null);
        Assert.That((await q.StatusAsync("did:p")).MessageCount, Is.EqualTo(1));
        Assert.That((await q.StatusAsync("did:o")).MessageCount, Is.Zero);
    }

    [Test]
    public async Task Status_counts_bytes_and_filters_by_recipient()
    {
        await using var q = Open();
        await q.EnqueueAsync(ReplayKey.Anonymous("1"), "did:o", "did:r1", new byte[100]);
        await q.EnqueueAsync(ReplayKey.Anonymous("2"), "did:o", "did:r2", new[] { new ReadOnlyMemory<byte>(new byte[10]), new byte[20] });
        var all = await q.StatusAsync("did:o");
        Assert.That((all.MessageCount, all.TotalBytes), Is.EqualTo((3, 130L)));
        Assert.That(all.OldestReceivedMs!.Value, Is.LessThanOrEqualTo(all.NewestReceivedMs!.Value));
        var r2 = await q.StatusAsync("did:o", "did:r2");
        Assert.That((r2.MessageCount, r2.TotalBytes), Is.EqualTo((2, 30L)));
        Assert.That((await q.PeekAsync("did:o", "did:r2", 1)).Single().Envelope, Has.Length.EqualTo(10));
        Assert.That((await q.StatusAsync("did:nobody")).MessageCount, Is.Zero);
    }

    [Test]
    public async Task Replay_memory_expires_after_one_to_two_windows()
    {
        await using var q = Open(TimeSpan.FromMilliseconds(300));
        var key = ReplayKey.Anonymous("x");
        Assert.That(await q.TryMarkSeenAsync(key), Is.True);
        await Task.Delay(350);
        Assert.That(await q.TryMarkSeenAsync(ReplayKey.Anonymous("tick")), Is.True);   // rotates: x is now in the old generation
        if (kind != "postgres")   // PostgreSQL prunes by age: remembered for at least one window, not two generations
            Assert.That(await q.TryMarkSeenAsync(key), Is.False, "still remembered after one window");
        await Task.Delay(350);
        Assert.That(await q.TryMarkSeenAsync(ReplayKey.Anonymous("tock")), Is.True);   // rotates again: x is forgotten
        Assert.That(await q.TryMarkSeenAsync(key), Is.True, "forgotten after two windows (bounded memory)");
    }

    [Test]
    public async Task Mediation_state_and_keylist()
    {
        await using var q = Open();
        var m = (IMediationStore)q;
        Assert.That(m.IsEnrolled("did:c"), Is.False);
        await m.GrantAsync("did:c");
        Assert.That(m.IsEnrolled("did:c"), Is.True);
        Assert.That(await m.AddKeyAsync("did:c", "did:k1"), Is.EqualTo(KeyUpdateResult.Success));
        Assert.That(await m.AddKeyAsync("did:c", "did:k2"), Is.EqualTo(KeyUpdateResult.Success));
        Assert.That(await m.AddKeyAsync("did:c", "did:k1"), Is.EqualTo(KeyUpdateResult.NoChange));
        Assert.That(await m.AddKeyAsync("did:d", "did:k1"), Is.EqualTo(KeyUpdateResult.ClientError));
        Assert.That(m.OwnerOf("did:k1"), Is.EqualTo("did:c"));
        Assert.That(await m.ListKeysAsync("did:c", 0, 10), Is.EqualTo((new[] { "did:k1", "did:k2" }, 2)).Using<(IReadOnlyList<string>, int)>(
            (a, b) => a.Item1.SequenceEqual(b.Item1) && a.Item2 == b.Item2));
        Assert.That(await m.RemoveKeyAsync("did:d", "did:k1"), Is.EqualTo(KeyUpdateResult.NoChange), "only the owner removes");
        Assert.That(await m.RemoveKeyAsync("did:c", "did:k1"), Is.EqualTo(KeyUpdateResult.Success));
        Assert.That(m.OwnerOf("did:k1"), Is.Null);
        m.SetSetting("s", "v1");
        m.SetSetting("s", "v2");
        Assert.That(m.GetSetting("s"), Is.EqualTo("v2"));
    }

    [Test]
    public async Task State_survives_a_reopen_when_durable_and_ids_are_never_reused()
    {
        string lastId;
        if (kind == "memory")
        {
            await using (var q = Open()) await q.EnqueueAsync(ReplayKey.Anonymous("1"), "did:c", "did:k", Env(1));
            await using (var again = Open()) Assert.That(await again.CountAllAsync(), Is.Zero, "the memory store is not durable, by design");
            return;
        }
        await using (var q = Open())
        {
            var m = (IMediationStore)q;
            await m.GrantAsync("did:c");
            await m.AddKeyAsync("did:c", "did:k");
            await q.EnqueueAsync(new ReplayKey("did:s", "1"), "did:c", "did:k", Env(1));
            var second = await q.EnqueueAsync(new ReplayKey("did:s", "2"), "did:c", "did:k", Env(2));
            lastId = second!.Id;
            Assert.That(await q.AcknowledgeAsync(new ReplayKey("did:c", "a"), "did:c", [lastId]), Is.EqualTo(1));   // delete the highest id
        }
        await using (var q = Open())
        {
            var m = (IMediationStore)q;
            Assert.That(m.IsEnrolled("did:c"), Is.True);
            Assert.That(m.OwnerOf("did:k"), Is.EqualTo("did:c"));
            var s = await q.StatusAsync("did:c");
            Assert.That((s.MessageCount, s.TotalBytes), Is.EqualTo((1, (long)Env(1).Length)), "counts are rebuilt from the table");
            Assert.That(await q.EnqueueAsync(new ReplayKey("did:s", "1"), "did:c", "did:k", Env(1)), Is.Null, "replay memory is durable");
            var next = await q.EnqueueAsync(new ReplayKey("did:s", "3"), "did:c", "did:k", Env(3));
            Assert.That(long.Parse(next!.Id), Is.GreaterThan(long.Parse(lastId)), "AUTOINCREMENT: a deleted id is not handed out again");
        }
    }

    [Test]
    public async Task A_closed_store_refuses_work_with_a_storage_error()
    {
        var q = Open();
        await q.DisposeAsync();
        Assert.That(async () => await q.EnqueueAsync(ReplayKey.Anonymous("1"), "did:o", "did:r", Env(1)),
            kind == "memory" ? Throws.Nothing : Throws.TypeOf<StorageException>());
    }
}
