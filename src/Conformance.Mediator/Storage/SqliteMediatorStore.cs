using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Conformance.Mediator;

/// <summary>Settings of <see cref="SqliteMediatorStore"/>.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>
    /// <c>PRAGMA synchronous</c>: true = FULL (the WAL is fsynced at every commit: survives power loss; the default),
    /// false = NORMAL (survives a killed process, not a power cut).
    /// </summary>
    public bool SynchronousFull { get; set; } = true;

    /// <summary>The most operations one group commit may hold.</summary>
    public int MaxBatch { get; set; } = 1024;

    /// <summary>A message id is remembered for replay detection for at least this long (and at most twice as long).</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>
/// The embedded SQLite backend (Microsoft.Data.Sqlite, WAL journal).
/// <para><b>Group commit.</b> All writes go through one writer thread that owns the write connection. It takes every
/// operation waiting in its queue (up to <see cref="SqliteStoreOptions.MaxBatch"/>), runs them in ONE transaction, commits
/// (one fsync with synchronous=FULL), and only then completes each caller's task — so a forward is acknowledged only once
/// its envelope is durable, and a burst of N concurrent forwards costs one commit, not N. If a batch fails it is retried
/// one operation per transaction, so one bad operation cannot fail its neighbours.</para>
/// <para><b>Crash safety.</b> A committed transaction survives SIGKILL (it is in the WAL); an uncommitted one leaves no
/// trace, and its callers were never acknowledged. Ids come from <c>AUTOINCREMENT</c>, so an id is never reused and a late
/// or repeated messages-received cannot delete newer mail.</para>
/// <para><b>Replay memory.</b> Two generations of seen-ids (<c>seen0</c>, <c>seen1</c>): inserts go to the current one,
/// lookups check both, and every <see cref="SqliteStoreOptions.ReplayWindow"/> the older generation is emptied and becomes
/// current — O(1) expiry with a window between 1 and 2 × ReplayWindow. Senders are keyed by the first 8 bytes of
/// SHA-256 of their DID.</para>
/// <para>Counts and sizes per (owner, recipient) are kept in memory (loaded at open, updated after each commit), so a
/// <c>status</c> costs no table scan. DIDs are interned to integers (<c>dids</c>) to keep rows and indexes small.</para>
/// </summary>
public sealed class SqliteMediatorStore : IMessageQueue, IMediationStore
{
    private readonly string _connectionString;
    private readonly SqliteStoreOptions _options;
    private readonly SqliteConnection _write;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Op> _ops = new();
    private readonly ManualResetEventSlim _pending = new(false, spinCount: 0);   // the writer blocks without spinning
    private volatile bool _closing;
    private readonly Thread _writer;
    private readonly Lock _memory = new();
    private readonly Dictionary<string, long> _didIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _didNames = [];
    private readonly HashSet<string> _enrolled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keyOwner = new(StringComparer.Ordinal);
    private readonly Dictionary<(long Owner, long Recipient), (int Count, long Bytes)> _counts = [];
    private readonly Commands _cmd;
    private int _seenGen;
    private long _seenSince;
    private bool _disposed;

    private SqliteMediatorStore(string path, SqliteStoreOptions options)
    {
        Path = System.IO.Path.GetFullPath(path);
        _options = options;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
        _write = new SqliteConnection(_connectionString);
        _write.Open();
        Exec(_write, "PRAGMA journal_mode=WAL;");
        Exec(_write, options.SynchronousFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
        Exec(_write, """
            CREATE TABLE IF NOT EXISTS dids(id INTEGER PRIMARY KEY, did TEXT NOT NULL UNIQUE);
            CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY AUTOINCREMENT, owner INTEGER NOT NULL, recipient INTEGER NOT NULL,
                received_ms INTEGER NOT NULL, size INTEGER NOT NULL, envelope BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS messages_owner ON messages(owner, id);
            CREATE TABLE IF NOT EXISTS seen0(sender INTEGER NOT NULL, msg_id TEXT NOT NULL, PRIMARY KEY(sender, msg_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS seen1(sender INTEGER NOT NULL, msg_id TEXT NOT NULL, PRIMARY KEY(sender, msg_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS mediations(client INTEGER PRIMARY KEY, granted_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS keylist(recipient TEXT PRIMARY KEY, client INTEGER NOT NULL, added_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);
            """);
        Load();
        _cmd = new Commands(_write);
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "mediator-sqlite-writer" };
        _writer.Start();
    }

    public string Path { get; }

    public string Description => $"sqlite:{Path} (WAL, synchronous={(_options.SynchronousFull ? "FULL" : "NORMAL")}, group commit ≤{_options.MaxBatch})";

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public static SqliteMediatorStore Open(string path, SqliteStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try { return new SqliteMediatorStore(path, options ?? new SqliteStoreOptions()); }
        catch (SqliteException e) { throw new StorageException($"cannot open the SQLite database {path}: {e.Message}", e); }
    }

    private void Load()
    {
        using (var c = Cmd(_write, "SELECT id, did FROM dids"))
        using (var r = c.ExecuteReader())
            while (r.Read()) { _didIds[r.GetString(1)] = r.GetInt64(0); _didNames[r.GetInt64(0)] = r.GetString(1); }
        using (var c = Cmd(_write, "SELECT client FROM mediations"))
        using (var r = c.ExecuteReader())
            while (r.Read()) _enrolled.Add(_didNames[r.GetInt64(0)]);
        using (var c = Cmd(_write, "SELECT recipient, client FROM keylist"))
        using (var r = c.ExecuteReader())
            while (r.Read()) _keyOwner[r.GetString(0)] = _didNames[r.GetInt64(1)];
        using (var c = Cmd(_write, "SELECT owner, recipient, COUNT(*), SUM(size) FROM messages GROUP BY owner, recipient"))
        using (var r = c.ExecuteReader())
            while (r.Read()) _counts[(r.GetInt64(0), r.GetInt64(1))] = (r.GetInt32(2), r.GetInt64(3));
        _seenGen = int.TryParse(GetSetting("seen.gen"), out var g) && g is 0 or 1 ? g : 0;
        _seenSince = long.TryParse(GetSetting("seen.since"), out var s) ? s : Now();
        if (GetSetting("seen.since") is null) SetSetting("seen.since", _seenSince.ToString(CultureInfo.InvariantCulture));
    }

    // ================================================================== IMessageQueue

    public ValueTask<IReadOnlyList<StoredMessage>?> EnqueueAsync(ReplayKey key, string owner, string recipient,
        IReadOnlyList<ReadOnlyMemory<byte>> envelopes, CancellationToken ct = default)
    {
        if (envelopes.Count == 0) throw new ArgumentException("nothing to queue", nameof(envelopes));
        var copies = new byte[envelopes.Count][];
        for (var i = 0; i < copies.Length; i++)
            copies[i] = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(envelopes[i], out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length
                ? seg.Array : envelopes[i].ToArray();   // the caller hands over a whole array: no copy
        return Submit(new EnqueueOp(key, SenderHash(key.Sender), owner, recipient, copies));
    }

    public ValueTask<bool> TryMarkSeenAsync(ReplayKey key, CancellationToken ct = default)
        => Submit(new SeenOp(key, SenderHash(key.Sender)));

    public ValueTask<int?> AcknowledgeAsync(ReplayKey key, string owner, IReadOnlyList<string> ids, CancellationToken ct = default)
    {
        var parsed = new List<long>(ids.Count);
        foreach (var id in ids)
            if (long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) parsed.Add(n);   // unknown ids: nothing to delete
        return Submit(new AckOp(key, SenderHash(key.Sender), owner, parsed));
    }

    public async ValueTask<QueueStatus> StatusAsync(string owner, string? recipient = null, CancellationToken ct = default)
    {
        long ownerId, recipientId = 0;
        int count = 0;
        long bytes = 0;
        lock (_memory)
        {
            if (!_didIds.TryGetValue(owner, out ownerId)) return new QueueStatus(0, 0, null, null);
            if (recipient is not null && !_didIds.TryGetValue(recipient, out recipientId)) return new QueueStatus(0, 0, null, null);
            foreach (var ((o, r), (n, b)) in _counts)
                if (o == ownerId && (recipient is null || r == recipientId)) { count += n; bytes += b; }
        }
        if (count == 0) return new QueueStatus(0, 0, null, null);
        return await Read(c =>
        {
            var filter = recipient is null ? "owner=$o" : "owner=$o AND recipient=$r";
            using var cmd = Cmd(c, $"SELECT (SELECT received_ms FROM messages WHERE {filter} ORDER BY id LIMIT 1), " +
                                   $"(SELECT received_ms FROM messages WHERE {filter} ORDER BY id DESC LIMIT 1)");
            cmd.Parameters.AddWithValue("$o", ownerId);
            cmd.Parameters.AddWithValue("$r", recipientId);
            using var r = cmd.ExecuteReader();
            r.Read();
            return new QueueStatus(count, bytes, r.IsDBNull(0) ? null : r.GetInt64(0), r.IsDBNull(1) ? null : r.GetInt64(1));
        });
    }

    public async ValueTask<IReadOnlyList<StoredMessage>> PeekAsync(string owner, string? recipient, int limit, CancellationToken ct = default)
    {
        long ownerId, recipientId = 0;
        lock (_memory)
        {
            if (!_didIds.TryGetValue(owner, out ownerId)) return [];
            if (recipient is not null && !_didIds.TryGetValue(recipient, out recipientId)) return [];
        }
        if (limit <= 0) return [];
        return await Read<IReadOnlyList<StoredMessage>>(c =>
        {
            var filter = recipient is null ? "owner=$o" : "owner=$o AND recipient=$r";
            using var cmd = Cmd(c, $"SELECT id, recipient, received_ms, envelope FROM messages WHERE {filter} ORDER BY id LIMIT $n");
            cmd.Parameters.AddWithValue("$o", ownerId);
            cmd.Parameters.AddWithValue("$r", recipientId);
            cmd.Parameters.AddWithValue("$n", limit);
            var list = new List<StoredMessage>();
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                string recipientDid;
                lock (_memory) recipientDid = _didNames.GetValueOrDefault(r.GetInt64(1), "?");
                list.Add(new StoredMessage(r.GetInt64(0).ToString(CultureInfo.InvariantCulture), owner, recipientDid, r.GetInt64(2), (byte[])r.GetValue(3)));
            }
            return list;
        });
    }

    public ValueTask<long> CountAllAsync(CancellationToken ct = default)
    {
        lock (_memory) return ValueTask.FromResult((long)_counts.Values.Sum(v => v.Count));
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

    public async ValueTask GrantAsync(string clientDid, CancellationToken ct = default) => await Submit(new GrantOp(clientDid));

    public ValueTask<KeyUpdateResult> AddKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default)
        => Submit(new KeyOp(clientDid, recipientDid, add: true));

    public ValueTask<KeyUpdateResult> RemoveKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default)
        => Submit(new KeyOp(clientDid, recipientDid, add: false));

    public async ValueTask<(IReadOnlyList<string> Keys, int Total)> ListKeysAsync(string clientDid, int offset, int limit, CancellationToken ct = default)
    {
        long clientId;
        lock (_memory)
            if (!_didIds.TryGetValue(clientDid, out clientId)) return ([], 0);
        return await Read<(IReadOnlyList<string>, int)>(c =>
        {
            using var count = Cmd(c, "SELECT COUNT(*) FROM keylist WHERE client=$c");
            count.Parameters.AddWithValue("$c", clientId);
            var total = Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            using var page = Cmd(c, "SELECT recipient FROM keylist WHERE client=$c ORDER BY added_ms, rowid LIMIT $l OFFSET $o");
            page.Parameters.AddWithValue("$c", clientId);
            page.Parameters.AddWithValue("$l", Math.Max(0, limit));
            page.Parameters.AddWithValue("$o", Math.Max(0, offset));
            var keys = new List<string>();
            using var r = page.ExecuteReader();
            while (r.Read()) keys.Add(r.GetString(0));
            return (keys, total);
        });
    }

    public string? GetSetting(string name)
    {
        try
        {
            using var conn = new SqliteConnection(_connectionString);
            conn.Open();
            using var c = Cmd(conn, "SELECT value FROM settings WHERE name=$n");
            c.Parameters.AddWithValue("$n", name);
            return c.ExecuteScalar() as string;
        }
        catch (SqliteException e) { throw new StorageException("storage: " + e.Message, e); }
    }

    public void SetSetting(string name, string value)
    {
        if (_writer?.IsAlive == true) { Submit(new SettingOp(name, value)).AsTask().GetAwaiter().GetResult(); return; }
        using var c = Cmd(_write, "INSERT INTO settings(name, value) VALUES($n, $v) ON CONFLICT(name) DO UPDATE SET value=excluded.value");
        c.Parameters.AddWithValue("$n", name);
        c.Parameters.AddWithValue("$v", value);
        c.ExecuteNonQuery();
    }

    // ================================================================== writer

    private ValueTask<T> Submit<T>(OpOf<T> op)
    {
        if (_closing) throw new StorageException("the message store is closed");
        _ops.Enqueue(op);
        _pending.Set();
        return new ValueTask<T>(op.Task);
    }

    private void WriterLoop()
    {
        var batch = new List<Op>(_options.MaxBatch);
        while (true)
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && _ops.TryDequeue(out var op)) batch.Add(op);
            if (batch.Count == 0)
            {
                if (_closing) break;
                _pending.Reset();
                if (!_ops.IsEmpty || _closing) continue;   // an op (or close) slipped in between the drain and the reset
                _pending.Wait();
                continue;
            }
            try
            {
                RotateSeenIfDue();
                InternAll(batch);
                RunBatch(batch);
            }
            catch (Exception e) when (batch.Count > 1 && e is SqliteException or InvalidOperationException)
            {
                // Retry one by one so a single failing operation does not fail the others.
                foreach (var op in batch)
                {
                    try { RunBatch([op]); }
                    catch (Exception inner) { op.Fail(new StorageException("storage: " + inner.Message, inner)); }
                }
            }
            catch (Exception e)
            {
                foreach (var op in batch) op.Fail(new StorageException("storage: " + e.Message, e));
            }
        }
        while (_ops.TryDequeue(out var left)) left.Fail(new StorageException("the message store is closed"));
    }

    private void RunBatch(List<Op> batch)
    {
        using var tx = _write.BeginTransaction();
        _cmd.Bind(tx);
        var now = Now();
        foreach (var op in batch) op.Run(this, now);
        tx.Commit();
        foreach (var op in batch) op.Committed(this);
    }

    /// <summary>New DIDs are interned in their own small transactions before the batch, so the batch only uses ids that
    /// already exist (the in-memory map never holds an id that a rolled-back transaction created).</summary>
    private void InternAll(List<Op> batch)
    {
        foreach (var op in batch)
            foreach (var did in op.Dids())
            {
                lock (_memory) if (_didIds.ContainsKey(did)) continue;
                _cmd.Bind(null);
                _cmd.InternInsert.Parameters["$d"].Value = did;
                _cmd.InternInsert.ExecuteNonQuery();
                _cmd.InternSelect.Parameters["$d"].Value = did;
                var id = (long)_cmd.InternSelect.ExecuteScalar()!;
                lock (_memory) { _didIds[did] = id; _didNames[id] = did; }
            }
    }

    private void RotateSeenIfDue()
    {
        var now = Now();
        if (now - _seenSince < (long)_options.ReplayWindow.TotalMilliseconds) return;
        var next = 1 - _seenGen;
        using var tx = _write.BeginTransaction();
        using (var clear = Cmd(_write, $"DELETE FROM seen{next}")) { clear.Transaction = tx; clear.ExecuteNonQuery(); }
        foreach (var (n, v) in new[] { ("seen.gen", next.ToString(CultureInfo.InvariantCulture)), ("seen.since", now.ToString(CultureInfo.InvariantCulture)) })
        {
            using var set = Cmd(_write, "INSERT INTO settings(name, value) VALUES($n, $v) ON CONFLICT(name) DO UPDATE SET value=excluded.value");
            set.Transaction = tx;
            set.Parameters.AddWithValue("$n", n);
            set.Parameters.AddWithValue("$v", v);
            set.ExecuteNonQuery();
        }
        tx.Commit();
        _seenGen = next;
        _seenSince = now;
    }

    /// <summary>Records the key in the current generation; false when either generation already has it.</summary>
    private bool MarkSeen(long sender, string messageId)
    {
        var old = _seenGen == 0 ? _cmd.Seen1Select : _cmd.Seen0Select;
        old.Parameters["$s"].Value = sender;
        old.Parameters["$m"].Value = messageId;
        if (old.ExecuteScalar() is not null) return false;
        var insert = _seenGen == 0 ? _cmd.Seen0Insert : _cmd.Seen1Insert;
        insert.Parameters["$s"].Value = sender;
        insert.Parameters["$m"].Value = messageId;
        return insert.ExecuteNonQuery() == 1;
    }

    private long IdOf(string did)
    {
        lock (_memory) return _didIds[did];
    }

    // ------------------------------------------------------------------ operations

    private abstract class Op
    {
        public virtual IEnumerable<string> Dids() => [];
        public abstract void Run(SqliteMediatorStore s, long now);
        public abstract void Committed(SqliteMediatorStore s);
        public abstract void Fail(Exception e);
    }

    private abstract class OpOf<T> : Op
    {
        private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        protected T Result = default!;
        public Task<T> Task => _tcs.Task;
        public override void Committed(SqliteMediatorStore s) { Apply(s); _tcs.TrySetResult(Result); }
        protected virtual void Apply(SqliteMediatorStore s) { }
        public override void Fail(Exception e) => _tcs.TrySetException(e);
    }

    private sealed class EnqueueOp(ReplayKey key, long sender, string owner, string recipient, byte[][] envelopes) : OpOf<IReadOnlyList<StoredMessage>?>
    {
        private long _ownerId, _recipientId;
        public override IEnumerable<string> Dids() => [owner, recipient];

        public override void Run(SqliteMediatorStore s, long now)
        {
            Result = null;
            if (!s.MarkSeen(sender, key.MessageId)) return;
            _ownerId = s.IdOf(owner);
            _recipientId = s.IdOf(recipient);
            var c = s._cmd.MessageInsert;
            var stored = new StoredMessage[envelopes.Length];
            for (var i = 0; i < envelopes.Length; i++)
            {
                c.Parameters["$o"].Value = _ownerId;
                c.Parameters["$r"].Value = _recipientId;
                c.Parameters["$t"].Value = now;
                c.Parameters["$z"].Value = envelopes[i].Length;
                c.Parameters["$e"].Value = envelopes[i];
                var id = (long)c.ExecuteScalar()!;
                stored[i] = new StoredMessage(id.ToString(CultureInfo.InvariantCulture), owner, recipient, now, envelopes[i]);
            }
            Result = stored;
        }

        protected override void Apply(SqliteMediatorStore s)
        {
            if (Result is null) return;
            lock (s._memory)
            {
                var k = (_ownerId, _recipientId);
                var (n, b) = s._counts.GetValueOrDefault(k);
                s._counts[k] = (n + envelopes.Length, b + envelopes.Sum(e => (long)e.Length));
            }
        }
    }

    private sealed class SeenOp(ReplayKey key, long sender) : OpOf<bool>
    {
        public override void Run(SqliteMediatorStore s, long now) => Result = s.MarkSeen(sender, key.MessageId);
    }

    private sealed class AckOp(ReplayKey key, long sender, string owner, List<long> ids) : OpOf<int?>
    {
        private readonly List<(long Recipient, long Size)> _deleted = [];
        private long _ownerId;

        public override void Run(SqliteMediatorStore s, long now)
        {
            _deleted.Clear();
            Result = null;
            if (!s.MarkSeen(sender, key.MessageId)) return;
            bool known;
            lock (s._memory) known = s._didIds.TryGetValue(owner, out _ownerId);
            if (known)
            {
                var c = s._cmd.MessageDelete;
                foreach (var id in ids)
                {
                    c.Parameters["$i"].Value = id;
                    c.Parameters["$o"].Value = _ownerId;
                    using var r = c.ExecuteReader();
                    if (r.Read()) _deleted.Add((r.GetInt64(0), r.GetInt64(1)));
                }
            }
            Result = _deleted.Count;
        }

        protected override void Apply(SqliteMediatorStore s)
        {
            lock (s._memory)
                foreach (var (recipient, size) in _deleted)
                {
                    var k = (_ownerId, recipient);
                    var (n, b) = s._counts.GetValueOrDefault(k);
                    if (n <= 1) s._counts.Remove(k); else s._counts[k] = (n - 1, b - size);
                }
        }
    }

    private sealed class GrantOp(string client) : OpOf<bool>
    {
        public override IEnumerable<string> Dids() => [client];

        public override void Run(SqliteMediatorStore s, long now)
        {
            using var c = Cmd(s._write, "INSERT OR IGNORE INTO mediations(client, granted_ms) VALUES($c, $t)");
            c.Transaction = s._cmd.Transaction;
            c.Parameters.AddWithValue("$c", s.IdOf(client));
            c.Parameters.AddWithValue("$t", now);
            c.ExecuteNonQuery();
            Result = true;
        }

        protected override void Apply(SqliteMediatorStore s)
        {
            lock (s._memory) s._enrolled.Add(client);
        }
    }

    private sealed class KeyOp(string client, string recipient, bool add) : OpOf<KeyUpdateResult>
    {
        public override IEnumerable<string> Dids() => [client, recipient];

        public override void Run(SqliteMediatorStore s, long now)
        {
            var clientId = s.IdOf(client);
            using var find = Cmd(s._write, "SELECT client FROM keylist WHERE recipient=$r");
            find.Transaction = s._cmd.Transaction;
            find.Parameters.AddWithValue("$r", recipient);
            var current = find.ExecuteScalar() as long?;
            if (add)
            {
                if (current == clientId) { Result = KeyUpdateResult.NoChange; return; }
                if (current is not null) { Result = KeyUpdateResult.ClientError; return; }
                using var ins = Cmd(s._write, "INSERT INTO keylist(recipient, client, added_ms) VALUES($r, $c, $t)");
                ins.Transaction = s._cmd.Transaction;
                ins.Parameters.AddWithValue("$r", recipient);
                ins.Parameters.AddWithValue("$c", clientId);
                ins.Parameters.AddWithValue("$t", now);
                ins.ExecuteNonQuery();
                Result = KeyUpdateResult.Success;
            }
            else
            {
                if (current != clientId) { Result = KeyUpdateResult.NoChange; return; }
                using var del = Cmd(s._write, "DELETE FROM keylist WHERE recipient=$r AND client=$c");
                del.Transaction = s._cmd.Transaction;
                del.Parameters.AddWithValue("$r", recipient);
                del.Parameters.AddWithValue("$c", clientId);
                del.ExecuteNonQuery();
                Result = KeyUpdateResult.Success;
            }
        }

        protected override void Apply(SqliteMediatorStore s)
        {
            if (Result != KeyUpdateResult.Success) return;
            lock (s._memory)
                if (add) s._keyOwner[recipient] = client; else s._keyOwner.Remove(recipient);
        }
    }

    private sealed class SettingOp(string name, string value) : OpOf<bool>
    {
        public override void Run(SqliteMediatorStore s, long now)
        {
            using var c = Cmd(s._write, "INSERT INTO settings(name, value) VALUES($n, $v) ON CONFLICT(name) DO UPDATE SET value=excluded.value");
            c.Transaction = s._cmd.Transaction;
            c.Parameters.AddWithValue("$n", name);
            c.Parameters.AddWithValue("$v", value);
            c.ExecuteNonQuery();
            Result = true;
        }
    }

    /// <summary>The writer's prepared statements (reused for every batch).</summary>
    private sealed class Commands
    {
        public readonly SqliteCommand Seen0Select, Seen1Select, Seen0Insert, Seen1Insert, MessageInsert, MessageDelete, InternInsert, InternSelect;
        private readonly SqliteCommand[] _all;

        public Commands(SqliteConnection c)
        {
            Seen0Select = Prep(c, "SELECT 1 FROM seen0 WHERE sender=$s AND msg_id=$m", "$s", "$m");
            Seen1Select = Prep(c, "SELECT 1 FROM seen1 WHERE sender=$s AND msg_id=$m", "$s", "$m");
            Seen0Insert = Prep(c, "INSERT OR IGNORE INTO seen0(sender, msg_id) VALUES($s, $m)", "$s", "$m");
            Seen1Insert = Prep(c, "INSERT OR IGNORE INTO seen1(sender, msg_id) VALUES($s, $m)", "$s", "$m");
            MessageInsert = Prep(c, "INSERT INTO messages(owner, recipient, received_ms, size, envelope) VALUES($o, $r, $t, $z, $e) RETURNING id",
                "$o", "$r", "$t", "$z", "$e");
            MessageDelete = Prep(c, "DELETE FROM messages WHERE id=$i AND owner=$o RETURNING recipient, size", "$i", "$o");
            InternInsert = Prep(c, "INSERT OR IGNORE INTO dids(did) VALUES($d)", "$d");
            InternSelect = Prep(c, "SELECT id FROM dids WHERE did=$d", "$d");
            _all = [Seen0Select, Seen1Select, Seen0Insert, Seen1Insert, MessageInsert, MessageDelete, InternInsert, InternSelect];
        }

        public SqliteTransaction? Transaction { get; private set; }

        public void Bind(SqliteTransaction? tx)
        {
            Transaction = tx;
            foreach (var c in _all) c.Transaction = tx;
        }

        private static SqliteCommand Prep(SqliteConnection c, string sql, params string[] names)
        {
            var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var n in names) cmd.Parameters.Add(new SqliteParameter(n, null));
            return cmd;
        }
    }

    // ------------------------------------------------------------------ helpers

    private async ValueTask<T> Read<T>(Func<SqliteConnection, T> query)
    {
        await Task.Yield();
        try
        {
            using var c = new SqliteConnection(_connectionString);
            c.Open();
            return query(c);
        }
        catch (SqliteException e) { throw new StorageException("storage: " + e.Message, e); }
    }

    private static SqliteCommand Cmd(SqliteConnection c, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = Cmd(c, sql);
        cmd.ExecuteNonQuery();
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>0 for anonymous; else the first 8 bytes of SHA-256(UTF-8(sender DID)).</summary>
    internal static long SenderHash(string sender)
    {
        if (string.IsNullOrEmpty(sender)) return 0;
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sender), h);
        var v = BinaryPrimitives.ReadInt64LittleEndian(h);
        return v == 0 ? 1 : v;
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        _closing = true;
        _pending.Set();
        _writer.Join();
        _pending.Dispose();
        _write.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        return ValueTask.CompletedTask;
    }
}
