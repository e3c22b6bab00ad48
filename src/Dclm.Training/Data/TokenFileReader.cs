using System.Buffers.Binary;
using System.Text.Json;
using Dclm.Tokenizers;

namespace Dclm.Training.Data;

/// <summary>
/// Reads the tokens of one training source: the shards of <c>dclm data tokenize</c> (a directory with
/// manifest.json and uint32 little-endian .bin shards, or a single .bin), or a .txt / .jsonl file that is
/// tokenized here. Documents are separated by the end-of-sequence token.
/// </summary>
public static class TokenFileReader
{
    /// <summary>All tokens of <paramref name="path"/>; errors name the file and the problem.</summary>
    public static int[] Read(string path, Tokenizer? tokenizer, int vocabularySize)
    {
        if (Directory.Exists(path)) return ReadShards(path, vocabularySize);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or directory");
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".bin" or ".tokens" => ReadBinary(path, vocabularySize),
            ".txt" or ".md" => Tokenize(path, [File.ReadAllText(path)], tokenizer),
            ".jsonl" => Tokenize(path, ReadJsonLines(path), tokenizer),
            _ => throw new InvalidDataException($"{path}: unknown data format '{extension}'; use token shards (.bin or a directory with manifest.json), .txt or .jsonl"),
        };
    }

    private static int[] ReadShards(string directory, int vocabularySize)
    {
        var files = ShardFiles(directory, vocabularySize);
        if (files.Count == 0) throw new InvalidDataException($"{directory}: no token shards (.bin) found");
        var all = new List<int>();
        foreach (var file in files) all.AddRange(ReadBinary(file, vocabularySize));
        return all.ToArray();
    }

    private static List<string> ShardFiles(string directory, int vocabularySize)
    {
        string manifest = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifest)) return Directory.GetFiles(directory, "*.bin").Order(StringComparer.Ordinal).ToList();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
            var root = document.RootElement;
            if (!root.TryGetProperty("shards", out var shards) || shards.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{manifest}: no \"shards\" array");
            // dclm data tokenize writes format dclm-tokens-v1: each shard holds windows × window_length uint32 tokens.
            if (root.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String && format.GetString() != "dclm-tokens-v1")
                throw new InvalidDataException($"{manifest}: format '{format.GetString()}' is not dclm-tokens-v1");
            long windowLength = root.TryGetProperty("window_length", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt64() : 0;
            if (root.TryGetProperty("vocab_size", out var v) && v.ValueKind == JsonValueKind.Number && v.GetInt64() > vocabularySize)
                throw new InvalidDataException($"{manifest}: the shards' vocabulary of {v.GetInt64()} is larger than the model's {vocabularySize}");
            var files = new List<string>();
            foreach (var shard in shards.EnumerateArray())
            {
                string? name = shard.ValueKind == JsonValueKind.String ? shard.GetString()
                    : shard.ValueKind == JsonValueKind.Object && (shard.TryGetProperty("file", out var f) || shard.TryGetProperty("path", out f) || shard.TryGetProperty("name", out f)) && f.ValueKind == JsonValueKind.String ? f.GetString()
                    : null;
                if (string.IsNullOrEmpty(name) || Path.IsPathRooted(name) || name.Contains(".."))
                    throw new InvalidDataException($"{manifest}: shard entry {files.Count} does not name a file inside the directory");
                string file = Path.Combine(directory, name);
                if (windowLength > 0 && shard.ValueKind == JsonValueKind.Object && shard.TryGetProperty("windows", out var count) && count.ValueKind == JsonValueKind.Number
                    && File.Exists(file) && new FileInfo(file).Length != count.GetInt64() * windowLength * 4)
                    throw new InvalidDataException($"{file}: {new FileInfo(file).Length} bytes, but the manifest lists {count.GetInt64()} windows of {windowLength} tokens");
                files.Add(file);
            }
            return files;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{manifest}: not valid JSON ({e.Message})");
        }
    }

    private static int[] ReadBinary(string path, int vocabularySize)
    {
        long length = new FileInfo(path).Length;
        if (length % 4 != 0) throw new InvalidDataException($"{path}: {length} bytes is not a whole number of uint32 tokens");
        if (length / 4 > Array.MaxLength) throw new InvalidDataException($"{path}: too many tokens for one array");
        var bytes = File.ReadAllBytes(path);
        var tokens = new int[bytes.Length / 4];
        for (int i = 0; i < tokens.Length; i++)
        {
            uint token = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
            if (token >= (uint)vocabularySize) throw new InvalidDataException($"{path}: token {i} is {token}, outside the vocabulary of {vocabularySize}");
            tokens[i] = (int)token;
        }
        return tokens;
    }

    private static IEnumerable<string> ReadJsonLines(string path)
    {
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            string? value;
            try
            {
                using var document = JsonDocument.Parse(text);
                value = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{line}: not valid JSON ({e.Message})");
            }
            yield return value ?? throw new InvalidDataException($"{path}:{line}: no string \"text\" field");
        }
    }

    private static int[] Tokenize(string path, IEnumerable<string> documents, Tokenizer? tokenizer)
    {
        if (tokenizer is null) throw new ArgumentException($"{path}: text data needs a tokenizer (--tokenizer)");
        var tokens = new List<int>();
        foreach (string document in documents)
        {
            tokenizer.Encode(document, tokens);
            if (tokenizer.EndOfSequenceId is int eos) tokens.Add(eos);
        }
        return tokens.ToArray();
    }
}
