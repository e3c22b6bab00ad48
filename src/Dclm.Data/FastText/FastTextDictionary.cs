using System.Text;

namespace Dclm.Data.FastText;

/// <summary>
/// A fastText vocabulary: words then labels (<c>Dictionary::save</c> order), each a UTF-8 byte string with its
/// training count, and the rules that turn a line of text into input-matrix rows exactly as fastText's
/// <c>Dictionary::getLine</c> does: tokens split on ASCII whitespace and NUL, a newline ending the line as
/// <c>&lt;/s&gt;</c>, every word's character n-grams (<c>minn..maxn</c> UTF-8 characters of
/// <c>&lt;word&gt;</c>) and word n-grams (up to <c>wordNgrams</c>) hashed with fastText's FNV-1a over signed bytes
/// into <c>bucket</c> rows after the vocabulary, through the pruning map of quantized models.
/// </summary>
public sealed class FastTextDictionary
{
    /// <summary>The end-of-line token fastText inserts for '\n'.</summary>
    public const string EndOfSentence = "</s>";

    /// <summary>Prefix that marks a token as a label.</summary>
    public const string LabelPrefix = "__label__";

    private static readonly byte[] EndOfSentenceBytes = Encoding.ASCII.GetBytes(EndOfSentence);
    private static readonly byte[] LabelPrefixBytes = Encoding.ASCII.GetBytes(LabelPrefix);

    private readonly FastTextArgs _args;
    private readonly byte[] _text;          // all entries' UTF-8 bytes, back to back
    private readonly int[] _starts;         // (size + 1) offsets into _text
    private readonly long[] _counts;        // (size)
    private readonly int[] _table;          // open addressing: slot -> entry index or -1
    private readonly Dictionary<int, int>? _pruneIndex;   // bucket -> compacted row (quantized, pruned models)
    private readonly PruneTable? _pruneRows;              // the same as a compact open-addressing table
    private readonly ulong _bucketDivisor;                // Lemire's fast modulo by the bucket count
    private readonly long _pruneIndexSize;  // -1: not pruned

    private FastTextDictionary(FastTextArgs args, byte[] text, int[] starts, long[] counts, int words, long tokens, Dictionary<int, int>? pruneIndex, long pruneIndexSize)
    {
        _args = args;
        _text = text;
        _starts = starts;
        _counts = counts;
        WordCount = words;
        LabelCount = counts.Length - words;
        TokenCount = tokens;
        _pruneIndex = pruneIndex;
        _pruneIndexSize = pruneIndexSize;
        _table = new int[Math.Max(1, (int)Math.Ceiling(counts.Length / 0.7))];
        Array.Fill(_table, -1);
        for (int i = 0; i < counts.Length; i++) _table[Find(Entry(i), Hash(Entry(i)))] = i;
        Labels = Enumerable.Range(0, LabelCount).Select(l => Encoding.UTF8.GetString(Entry(words + l))).ToArray();
        if (pruneIndex is not null) _pruneRows = new PruneTable(pruneIndex);
        if (args.Buckets > 0) _bucketDivisor = ulong.MaxValue / (uint)args.Buckets + 1;
    }

    /// <summary><paramref name="hash"/> % buckets without a division (Lemire, Kaser and Kurz 2019).</summary>
    private int Bucket(uint hash) => (int)Math.BigMul(_bucketDivisor * hash, (ulong)(uint)_args.Buckets, out _);

    /// <summary>The kept buckets of a pruned model (~10^5 of 2·10^6) in a table small enough to stay in cache.</summary>
    private sealed class PruneTable
    {
        private readonly int[] _keys;   // bucket + 1, 0: empty
        private readonly int[] _rows;
        private readonly int _mask;

        public PruneTable(Dictionary<int, int> index)
        {
            int capacity = 16;
            while (capacity < index.Count * 2) capacity <<= 1;
            _keys = new int[capacity];
            _rows = new int[capacity];
            _mask = capacity - 1;
            foreach (var (bucket, row) in index)
            {
                int slot = Slot(bucket);
                while (_keys[slot] != 0) slot = (slot + 1) & _mask;
                _keys[slot] = bucket + 1;
                _rows[slot] = row;
            }
        }

        private int Slot(int bucket) => (int)(((uint)bucket * 2654435769u) >> 8) & _mask;

        /// <summary>The row of <paramref name="bucket"/>, or -1 when it was pruned.</summary>
        public int Row(int bucket)
        {
            for (int slot = Slot(bucket); ; slot = (slot + 1) & _mask)
            {
                int key = _keys[slot];
                if (key == bucket + 1) return _rows[slot];
                if (key == 0) return -1;
            }
        }
    }

    /// <summary>Words in the vocabulary (the first rows of the input matrix).</summary>
    public int WordCount { get; }

    /// <summary>Labels (the rows of a supervised model's output matrix).</summary>
    public int LabelCount { get; }

    /// <summary>Tokens seen in training.</summary>
    public long TokenCount { get; }

    /// <summary>Label strings in output-row order, e.g. "__label__en".</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>True when a quantized model kept only some n-gram buckets.</summary>
    public bool IsPruned => _pruneIndexSize >= 0;

    /// <summary>Rows of the input matrix this vocabulary addresses.</summary>
    public long InputRows => WordCount + (IsPruned ? _pruneIndexSize : _args.Buckets);

    /// <summary>Training count of label <paramref name="label"/> (hierarchical softmax builds its tree from these).</summary>
    public long LabelFrequency(int label) => _counts[WordCount + label];

    /// <summary>Training count of every entry, words then labels.</summary>
    internal long Count(int entry) => _counts[entry];

    /// <summary>UTF-8 bytes of entry <paramref name="entry"/>.</summary>
    internal ReadOnlySpan<byte> Entry(int entry) => _text.AsSpan(_starts[entry], _starts[entry + 1] - _starts[entry]);

    /// <summary>Entries (words then labels).</summary>
    internal int Size => _counts.Length;

    /// <summary>Builds a vocabulary from words (sorted by descending count) and labels, for a model being trained.</summary>
    internal static FastTextDictionary Create(FastTextArgs args, IReadOnlyList<(byte[] Word, long Count)> words, IReadOnlyList<(byte[] Label, long Count)> labels, long tokens)
    {
        var all = words.Concat(labels).ToList();
        var starts = new int[all.Count + 1];
        using var text = new MemoryStream();
        for (int i = 0; i < all.Count; i++)
        {
            starts[i] = (int)text.Length;
            text.Write(all[i].Item1);
        }
        starts[all.Count] = (int)text.Length;
        return new FastTextDictionary(args, text.ToArray(), starts, all.Select(e => e.Item2).ToArray(), words.Count, tokens, null, -1);
    }

    internal static FastTextDictionary Read(FastTextReader reader, FastTextArgs args)
    {
        int size = reader.Int32(), words = reader.Int32(), labels = reader.Int32();
        long tokens = reader.Int64(), pruneIndexSize = reader.Int64();
        reader.Require(size >= 0 && words >= 0 && labels >= 0 && (long)words + labels == size, $"dictionary sizes size={size} nwords={words} nlabels={labels}");
        reader.Require(size <= reader.Remaining / 10, $"dictionary of {size} entries cannot fit in the {reader.Remaining} bytes left");
        reader.Require(tokens >= 0, $"negative token count {tokens}");
        reader.Require(pruneIndexSize >= -1 && pruneIndexSize <= args.Buckets, $"prune index size {pruneIndexSize} outside -1..{args.Buckets}");
        var text = new MemoryStream();
        var starts = new int[size + 1];
        var counts = new long[size];
        for (int i = 0; i < size; i++)
        {
            starts[i] = (int)text.Length;
            text.Write(reader.NulTerminated(1 << 16));
            counts[i] = reader.Int64();
            byte type = reader.Byte();
            reader.Require(type == (i < words ? 0 : 1), $"entry {i} has type {type}; words (0) must precede labels (1)");
            reader.Require(text.Length < int.MaxValue, "dictionary text over 2 GB");
        }
        starts[size] = (int)text.Length;
        Dictionary<int, int>? pruneIndex = null;
        if (pruneIndexSize > 0)
        {
            reader.Require(pruneIndexSize * 8 <= reader.Remaining, $"truncated: prune index of {pruneIndexSize} pairs");
            pruneIndex = new Dictionary<int, int>((int)pruneIndexSize);
            for (long i = 0; i < pruneIndexSize; i++)
            {
                int bucket = reader.Int32(), row = reader.Int32();
                reader.Require(bucket >= 0 && bucket < args.Buckets && row >= 0 && row < pruneIndexSize, $"prune pair ({bucket}, {row}) out of range");
                pruneIndex[bucket] = row;
            }
        }
        return new FastTextDictionary(args, text.ToArray(), starts, counts, words, tokens, pruneIndex, pruneIndexSize);
    }

    internal void Write(BinaryWriter writer)
    {
        writer.Write(Size);
        writer.Write(WordCount);
        writer.Write(LabelCount);
        writer.Write(TokenCount);
        writer.Write(_pruneIndexSize);
        for (int i = 0; i < Size; i++)
        {
            writer.Write(Entry(i));
            writer.Write((byte)0);
            writer.Write(_counts[i]);
            writer.Write((byte)(i < WordCount ? 0 : 1));
        }
        if (_pruneIndex is not null)
        {
            foreach (var (bucket, row) in _pruneIndex)
            {
                writer.Write(bucket);
                writer.Write(row);
            }
        }
    }

    /// <summary>fastText's hash: FNV-1a over the bytes taken as <em>signed</em> chars (kept for model compatibility).</summary>
    public static uint Hash(ReadOnlySpan<byte> text)
    {
        uint hash = 2166136261;
        foreach (byte b in text)
        {
            hash ^= (uint)(sbyte)b;
            hash *= 16777619;
        }
        return hash;
    }

    /// <summary>Entry index of <paramref name="word"/>, or -1.</summary>
    public int Lookup(ReadOnlySpan<byte> word) => _table[Find(word, Hash(word))];

    private int Find(ReadOnlySpan<byte> word, uint hash)
    {
        int slot = (int)(hash % (uint)_table.Length);
        while (_table[slot] != -1 && !Entry(_table[slot]).SequenceEqual(word)) slot = (slot + 1) % _table.Length;
        return slot;
    }

    private static bool IsSeparator(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\v' or (byte)'\f' or 0;

    /// <summary>
    /// fastText's <c>getLine</c> for supervised models: reads tokens from <paramref name="text"/> at
    /// <paramref name="position"/> up to and including the next newline (which becomes <c>&lt;/s&gt;</c>) or the end,
    /// and appends the input rows of every word, its character n-grams and the word n-grams to
    /// <paramref name="rows"/>. Label tokens are skipped. Returns the number of tokens read.
    /// </summary>
    public int ReadLine(ReadOnlySpan<byte> text, ref int position, FastTextFeatures rows)
    {
        rows.Clear();
        int tokens = 0;
        int i = position;
        while (true)
        {
            while (i < text.Length && IsSeparator(text[i]) && text[i] != (byte)'\n') i++;
            if (i >= text.Length) break;
            ReadOnlySpan<byte> token;
            if (text[i] == (byte)'\n')
            {
                token = EndOfSentenceBytes;
                i++;
            }
            else
            {
                int start = i;
                while (i < text.Length && !IsSeparator(text[i])) i++;
                token = text[start..i];
            }
            tokens++;
            uint hash = Hash(token);
            int id = _table[Find(token, hash)];
            bool isWord = id >= 0 ? id < WordCount : !token.StartsWith(LabelPrefixBytes);
            if (isWord)
            {
                AddSubwords(token, id, rows);
                rows.WordHashes.Add((int)hash);
            }
            // fastText stops at any "</s>" token, the newline's or one written in the text.
            if (token.SequenceEqual(EndOfSentenceBytes)) break;
        }
        position = i;
        AddWordNgrams(rows);
        return tokens;
    }

    private void AddSubwords(ReadOnlySpan<byte> token, int id, FastTextFeatures rows)
    {
        bool endOfSentence = token.SequenceEqual(EndOfSentenceBytes);
        if (id >= 0)
        {
            rows.Add(id);
            if (_args.MaxN <= 0 || endOfSentence) return;
        }
        else if (endOfSentence) return;
        var bounded = rows.Scratch(token.Length + 2);
        bounded[0] = (byte)'<';
        token.CopyTo(bounded[1..]);
        bounded[token.Length + 1] = (byte)'>';
        AddCharacterNgrams(bounded[..(token.Length + 2)], rows);
    }

    /// <summary><c>computeSubwords</c>: every run of minn..maxn UTF-8 characters, except the lone "&lt;" and "&gt;".</summary>
    private void AddCharacterNgrams(ReadOnlySpan<byte> word, FastTextFeatures rows)
    {
        int minimum = _args.MinN, maximum = _args.MaxN;
        for (int i = 0; i < word.Length; i++)
        {
            if ((word[i] & 0xC0) == 0x80) continue;
            uint hash = 2166136261;
            int j = i;
            for (int n = 1; j < word.Length && n <= maximum; n++)
            {
                do
                {
                    hash ^= (uint)(sbyte)word[j++];
                    hash *= 16777619;
                }
                while (j < word.Length && (word[j] & 0xC0) == 0x80);
                if (n >= minimum && !(n == 1 && (i == 0 || j == word.Length))) PushBucket(Bucket(hash), rows);
            }
        }
    }

    /// <summary><c>addWordNgrams</c>: h = h·116049371 + next, over sign-extended 32-bit word hashes.</summary>
    private void AddWordNgrams(FastTextFeatures rows)
    {
        var hashes = rows.WordHashes;
        int n = _args.WordNgrams;
        for (int i = 0; i < hashes.Count; i++)
        {
            ulong hash = (ulong)(long)hashes[i];
            for (int j = i + 1; j < hashes.Count && j < i + n; j++)
            {
                hash = hash * 116049371 + (ulong)(long)hashes[j];
                PushBucket((int)(hash % (ulong)_args.Buckets), rows);
            }
        }
    }

    private void PushBucket(int bucket, FastTextFeatures rows)
    {
        if (_pruneIndexSize == 0) return;
        if (_pruneRows is not null)
        {
            bucket = _pruneRows.Row(bucket);
            if (bucket < 0) return;
        }
        rows.Add(WordCount + bucket);
    }
}
