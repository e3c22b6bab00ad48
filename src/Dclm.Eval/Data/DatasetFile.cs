using System.Collections;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace Dclm.Eval.Data;

/// <summary>
/// Reads one split of a dataset as Hugging Face exports it: JSON Lines (optionally gzip-compressed) or
/// Parquet (the Hub's own format, read with Parquet.Net). Every row becomes a JSON object, so nested
/// fields (ARC's <c>choices: {text, label}</c>, MMLU's <c>choices</c> list) look the same from either file.
/// </summary>
public static class DatasetFile
{
    /// <summary>File endings read, in the order a split's files are looked for.</summary>
    public static readonly string[] Extensions = [".jsonl", ".jsonl.gz", ".parquet"];

    /// <summary>Every row of <paramref name="path"/>; errors name the file (and the line for JSONL).</summary>
    public static IReadOnlyList<JsonObject> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such dataset file");
        return path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? ReadParquet(path) : ReadJsonLines(path);
    }

    private static List<JsonObject> ReadJsonLines(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var rows = new List<JsonObject>();
        int lineNumber = 0;
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({e.Message})"); }
            rows.Add(node as JsonObject ?? throw new InvalidDataException($"{path}:{lineNumber}: a record must be a JSON object"));
        }
        return rows;
    }

    private static List<JsonObject> ReadParquet(string path)
    {
        IList<Dictionary<string, object>> data;
        try
        {
            using var stream = File.OpenRead(path);
            data = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult().Data;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{path}: not a readable Parquet file ({e.Message})");
        }
        return data.Select(row => (JsonObject)ToNode(row)!).ToList();
    }

    /// <summary>Parquet.Net's untyped values (dictionaries for structs, lists, ReadOnlyMemory&lt;char&gt; for strings) as JSON.</summary>
    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        ReadOnlyMemory<char> m => JsonValue.Create(m.ToString()),
        bool b => JsonValue.Create(b),
        long or int or short or sbyte or byte or ushort or uint => JsonValue.Create(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
        ulong u => JsonValue.Create(u),
        float f => JsonValue.Create(f),
        double d => JsonValue.Create(d),
        decimal m => JsonValue.Create(m),
        DateTime t => JsonValue.Create(t),
        IDictionary dictionary => new JsonObject(dictionary.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, ToNode(dictionary[k])))),
        IEnumerable<KeyValuePair<string, object>> pairs => new JsonObject(pairs.Select(p => KeyValuePair.Create(p.Key, ToNode(p.Value)))),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        IEnumerable list => new JsonArray(list.Cast<object?>().Select(ToNode).ToArray()),
        _ => JsonValue.Create(value.ToString()),
    };
}
