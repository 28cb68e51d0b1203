using System.Globalization;
using Npgsql;

namespace Conformance.Mediator;

/// <summary>
/// The PostgreSQL backend (Npgsql), for mediators that share a database server. Same contract as
/// <see cref="SqliteMediatorStore"/>:
/// <list type="bullet">
/// <item>Each mutating call is ONE transaction: the replay key (<c>INSERT … ON CONFLICT DO NOTHING</c>) and its effect
/// commit together or not at all; the caller's task completes after the commit (PostgreSQL's own WAL flush; concurrent
/// commits are grouped by the server).</item>
/// <item>Ids come from a <c>BIGSERIAL</c>: never reused.</item>
/// <item>Replay memory: rows older than the replay window are deleted (at most every minute, or every half window), so
/// a key is remembered for at least the window.</item>
/// <item>Mediation state is cached in memory for the forward hot path (<see cref="OwnerOf"/>), so one mediator process
/// should own a database; the rows are the truth at start-up.</item>
/// </list>
/// </summary>
public sealed class PostgresMediatorStore : IMessageQueue, IMediationStore
{
    private readonly NpgsqlDataSource _db;
    private readonly TimeSpan _replayWindow;
    private readonly Lock _memory = new();
    private readonly HashSet<string> _enrolled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keyOwner = new(StringComparer.Ordinal);
    private long _lastPruneMs;

    private PostgresMediatorStore(NpgsqlDataSource db, TimeSpan replayWindow, string description)
    {
        _db = db;
        _replayWindow = replayWindow;
        Description = description;
    }

    public string Description { get; }

    /// <summary>Connects, creates the tables if needed and loads the mediation state.</summary>
    public static async Task<PostgresMediatorStore> OpenAsync(string connectionString, TimeSpan? replayWindow = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlDataSource db;
        string host;
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            // A mediator needs few connections (each operation is one short transaction); the Npgsql default of 100 would
            // exhaust a default server (max_connections = 100) under a burst of forwards. Callers wait for a free one.
            if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase) &&
                !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase)) b.MaxPoolSize = 16;
            host = $"postgres:{b.Host}:{b.Port}/{b.Database}";
            db = NpgsqlDataSource.Create(b.ConnectionString);
        }
        catch (ArgumentException e) { throw new StorageException("invalid PostgreSQL connection string: " + e.Message, e); }
        var store = new PostgresMediatorStore(db, replayWindow ?? TimeSpan.FromHours(24), host);
        try
        {
            await store.Exec("""
                CREATE TABLE IF NOT EXISTS mediator_messages(id BIGSERIAL PRIMARY KEY, owner TEXT NOT NULL, recipient TEXT NOT NULL,
                    received_ms BIGINT NOT NULL, size INT NOT NULL, envelope BYTEA NOT NULL);
                CREATE INDEX IF NOT EXISTS mediator_messages_owner ON mediator_messages(owner, id);
                CREATE TABLE IF NOT EXISTS mediator_seen(sender TEXT NOT NULL, msg_id TEXT NOT NULL, at_ms BIGINT NOT NULL, PRIMARY KEY(sender, msg_id));
                CREATE INDEX IF NOT EXISTS mediator_seen_at ON mediator_seen(at_ms);
                CREATE TABLE IF NOT EXISTS mediator_mediations(client TEXT PRIMARY KEY, granted_ms BIGINT NOT NULL);
                CREATE TABLE IF NOT EXISTS mediator_keylist(recipient TEXT PRIMARY KEY, client TEXT NOT NULL, seq BIGSERIAL);
                CREATE TABLE IF NOT EXISTS mediator_settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);
                """, ct);
            await using (var c = await db.OpenConnectionAsync(ct))
            {
                await using (var cmd = new NpgsqlCommand("SELECT client FROM mediator_mediations", c))
                await using (var r = await cmd.ExecuteReaderAsync(ct))
                    while (await r.ReadAsync(ct)) store._enrolled.Add(r.GetString(0));
                await using (var cmd = new NpgsqlCommand("SELECT recipient, client FROM mediator_keylist", c))
                await using (var r = await cmd.ExecuteReaderAsync(ct))
                    while (await r.ReadAsync(ct)) store._keyOwner[r.GetString(0)] = r.GetString(1);
            }
            return store;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await db.DisposeAsync();
            throw new StorageException("cannot open the PostgreSQL database: " + MediatorCommand.OneLine(e.Message), e);
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private async Task Exec(string sql, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction; commits when it returns (true, result), rolls back on (false, result).</summary>
    private async ValueTask<T> InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, long, Task<(bool Commit, T Result)>> work, CancellationToken ct)
    {
        try
        {
            await PruneIfDue(ct);
            await using var c = await _db.OpenConnectionAsync(ct);
            await using var tx = await c.BeginTransactionAsync(ct);
            var (commit, result) = await work(c, tx, Now());
            if (commit) await tx.CommitAsync(ct); else await tx.RollbackAsync(ct);
            return result;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            throw new StorageException("storage: " + MediatorCommand.OneLine(e.Message), e);
        }
    }

    private async Task PruneIfDue(CancellationToken ct)
    {
        var now = Now();
        var last = Interlocked.Read(ref _lastPruneMs);
        var interval = Math.Min(60_000, (long)_replayWindow.TotalMilliseconds / 2);
        if (now - last < interval || Interlocked.CompareExchange(ref _lastPruneMs, now, last) != last) return;
        await using var cmd = _db.CreateCommand("DELETE FROM mediator_seen WHERE at_ms < $1");
        cmd.Parameters.AddWithValue(now - (long)_replayWindow.TotalMilliseconds);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<bool> MarkSeen(NpgsqlConnection c, NpgsqlTransaction tx, ReplayKey key, long now, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("INSERT INTO mediator_seen(sender, msg_id, at_ms) VALUES($1, $2, $3) ON CONFLICT DO NOTHING", c, tx);
        cmd.Parameters.AddWithValue(key.Sender);
        cmd.Parameters.AddWithValue(key.MessageId);
        cmd.Parameters.AddWithValue(now);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    // ================================================================== IMessageQueue

    public ValueTask<IReadOnlyList<StoredMessage>?> EnqueueAsync(ReplayKey key, string owner, string recipient, IReadOnlyList<ReadOnlyMemory<byte>> envelopes, CancellationToken ct = default)
    {
        if (envelopes.Count == 0) throw new ArgumentException("nothing to queue", nameof(envelopes));
        return InTransaction<IReadOnlyList<StoredMessage>?>(async (c, tx, now) =>
        {
            if (!await MarkSeen(c, tx, key, now, ct)) return (false, null);
            var stored = new List<StoredMessage>(envelopes.Count);
            foreach (var e in envelopes)
            {
                var bytes = e.ToArray();
                await using var cmd = new NpgsqlCommand(
                    "INSERT INTO mediator_messages(owner, recipient, received_ms, size, envelope) VALUES($1, $2, $3, $4, $5) RETURNING id", c, tx);
                cmd.Parameters.AddWithValue(owner);
                cmd.Parameters.AddWithValue(recipient);
                cmd.Parameters.AddWithValue(now);
                cmd.Parameters.AddWithValue(bytes.Length);
                cmd.Parameters.AddWithValue(bytes);
                var id = (long)(await cmd.ExecuteScalarAsync(ct))!;
                stored.Add(new StoredMessage(id.ToString(CultureInfo.InvariantCulture), owner, recipient, now, bytes));
            }
            return (true, stored);
        }, ct);
    }

    public ValueTask<bool> TryMarkSeenAsync(ReplayKey key, CancellationToken ct = default) =>
        InTransaction(async (c, tx, now) => { var fresh = await MarkSeen(c, tx, key, now, ct); return (fresh, fresh); }, ct);

    public ValueTask<int?> AcknowledgeAsync(ReplayKey key, string owner, IReadOnlyList<string> ids, CancellationToken ct = default)
    {
        var parsed = ids.Select(i => long.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1).Where(n => n >= 0).ToArray();
        return InTransaction<int?>(async (c, tx, now) =>
        {
            if (!await MarkSeen(c, tx, key, now, ct)) return (false, null);
            await using var cmd = new NpgsqlCommand("DELETE FROM mediator_messages WHERE owner = $1 AND id = ANY($2)", c, tx);
            cmd.Parameters.AddWithValue(owner);
            cmd.Parameters.AddWithValue(parsed);
            return (true, await cmd.ExecuteNonQueryAsync(ct));
        }, ct);
    }

    public async ValueTask<QueueStatus> StatusAsync(string owner, string? recipient = null, CancellationToken ct = default)
    {
        try
        {
            await using var cmd = _db.CreateCommand(
                "SELECT COUNT(*), COALESCE(SUM(size), 0), MIN(received_ms), MAX(received_ms) FROM mediator_messages WHERE owner = $1 AND ($2::text IS NULL OR recipient = $2)");
            cmd.Parameters.AddWithValue(owner);
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)recipient ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            var count = (int)r.GetInt64(0);
            return count == 0 ? new QueueStatus(0, 0, null, null)
                : new QueueStatus(count, Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture), r.GetInt64(2), r.GetInt64(3));
        }
        catch (NpgsqlException e) { throw new StorageException("storage: " + MediatorCommand.OneLine(e.Message), e); }
    }

    public async ValueTask<IReadOnlyList<StoredMessage>> PeekAsync(string owner, string? recipient, int limit, CancellationToken ct = default)
    {
        if (limit <= 0) return [];
        try
        {
            await using var cmd = _db.CreateCommand(
                "SELECT id, recipient, received_ms, envelope FROM mediator_messages WHERE owner = $1 AND ($2::text IS NULL OR recipient = $2) ORDER BY id LIMIT $3");
            cmd.Parameters.AddWithValue(owner);
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)recipient ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            cmd.Parameters.AddWithValue(limit);
            var list = new List<StoredMessage>();
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                list.Add(new StoredMessage(r.GetInt64(0).ToString(CultureInfo.InvariantCulture), owner, r.GetString(1), r.GetInt64(2), (byte[])r.GetValue(3)));
            return list;
        }
        catch (NpgsqlException e) { throw new StorageException("storage: " + MediatorCommand.OneLine(e.Message), e); }
    }

    public async ValueTask<long> CountAllAsync(CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT COUNT(*) FROM mediator_messages");
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    // ================================================================== IMediationStore

    public bool IsEnrolled(string clientDid)
    {
        lock (_memory) return _enrolled.Contains(clientDid);
    }

    public string? OwnerOf(string recipientDid)
    {
        lock (_memory) return _keyOwner.GetValueOrDefault(recipientDid);
    }

    public async ValueTask GrantAsync(string clientDid, CancellationToken ct = default)
    {
        await InTransaction(async (c, tx, now) =>
        {
            await using var cmd = new NpgsqlCommand("INSERT INTO mediator_mediations(client, granted_ms) VALUES($1, $2) ON CONFLICT DO NOTHING", c, tx);
            cmd.Parameters.AddWithValue(clientDid);
            cmd.Parameters.AddWithValue(now);
            await cmd.ExecuteNonQueryAsync(ct);
            return (true, true);
        }, ct);
        lock (_memory) _enrolled.Add(clientDid);
    }

    public async ValueTask<KeyUpdateResult> AddKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default)
    {
        var result = await InTransaction(async (c, tx, now) =>
        {
            await using var ins = new NpgsqlCommand("INSERT INTO mediator_keylist(recipient, client) VALUES($1, $2) ON CONFLICT DO NOTHING", c, tx);
            ins.Parameters.AddWithValue(recipientDid);
            ins.Parameters.AddWithValue(clientDid);
            if (await ins.ExecuteNonQueryAsync(ct) == 1) return (true, KeyUpdateResult.Success);
            await using var find = new NpgsqlCommand("SELECT client FROM mediator_keylist WHERE recipient = $1", c, tx);
            find.Parameters.AddWithValue(recipientDid);
            var owner = await find.ExecuteScalarAsync(ct) as string;
            return (false, owner == clientDid ? KeyUpdateResult.NoChange : KeyUpdateResult.ClientError);
        }, ct);
        if (result == KeyUpdateResult.Success) lock (_memory) _keyOwner[recipientDid] = clientDid;
        return result;
    }

    public async ValueTask<KeyUpdateResult> RemoveKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default)
    {
        var result = await InTransaction(async (c, tx, now) =>
        {
            await using var del = new NpgsqlCommand("DELETE FROM mediator_keylist WHERE recipient = $1 AND client = $2", c, tx);
            del.Parameters.AddWithValue(recipientDid);
            del.Parameters.AddWithValue(clientDid);
            var n = await del.ExecuteNonQueryAsync(ct);
            return (true, n == 1 ? KeyUpdateResult.Success : KeyUpdateResult.NoChange);
        }, ct);
        if (result == KeyUpdateResult.Success) lock (_memory) _keyOwner.Remove(recipientDid);
        return result;
    }

    public async ValueTask<(IReadOnlyList<string> Keys, int Total)> ListKeysAsync(string clientDid, int offset, int limit, CancellationToken ct = default)
    {
        await using var count = _db.CreateCommand("SELECT COUNT(*) FROM mediator_keylist WHERE client = $1");
        count.Parameters.AddWithValue(clientDid);
        var total = (int)(long)(await count.ExecuteScalarAsync(ct))!;
        await using var page = _db.CreateCommand("SELECT recipient FROM mediator_keylist WHERE client = $1 ORDER BY seq LIMIT $2 OFFSET $3");
        page.Parameters.AddWithValue(clientDid);
        page.Parameters.AddWithValue((long)Math.Max(0, limit));
        page.Parameters.AddWithValue((long)Math.Max(0, offset));
        var keys = new List<string>();
        await using var r = await page.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) keys.Add(r.GetString(0));
        return (keys, total);
    }

    public string? GetSetting(string name)
    {
        using var cmd = _db.CreateCommand("SELECT value FROM mediator_settings WHERE name = $1");
        cmd.Parameters.AddWithValue(name);
        return cmd.ExecuteScalar() as string;
    }

    public void SetSetting(string name, string value)
    {
        using var cmd = _db.CreateCommand("INSERT INTO mediator_settings(name, value) VALUES($1, $2) ON CONFLICT(name) DO UPDATE SET value = EXCLUDED.value");
        cmd.Parameters.AddWithValue(name);
        cmd.Parameters.AddWithValue(value);
        cmd.ExecuteNonQuery();
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
