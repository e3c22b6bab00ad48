using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dclm.Fuzz;

/// <summary>
/// Structure-aware JSON mutations: a random node of the tree is replaced by a value of another kind, an edge
/// number, hostile text (lone surrogates, control characters, huge strings) or another node's value; keys are
/// deleted, duplicated or renamed; containers are nested deep. Some results are then damaged as text (a cut,
/// a byte-level mutation, invalid UTF-8) so the parser's own errors are reached too.
/// </summary>
internal static class JsonMutator
{
    private static readonly string[] HostileStrings =
    [
        "", " ", "\u0000", "\n", LoneHigh, LoneLow, "x" + LoneHigh + "y", Invalid, "caf" + Invalid, "\uffff", "é", "😀", "<|endoftext|>", "{{ x }}", "%s%n",
        "../../etc/passwd", "a\r\nb", "\\", "\"", "(a+)+$", "((a*)*)*c", "[", "(?!", "\\p{L}+", "\\1", "(?<x>a)\\k<x>",
        new string('a', 5000), "BPE", "ByteLevel", "Split", "Sequence", "TemplateProcessing", "object", "string", "integer",
    ];

    // Text that JSON can carry but System.Text.Json cannot build from a .NET string: written as placeholders,
    // then turned into a lone-surrogate escape or raw invalid UTF-8 bytes after serializing.
    private const string LoneHigh = "@@D800@@", LoneLow = "@@DFFF@@", Invalid = "@@FF@@";

    private static readonly double[] EdgeNumbers = [0, -0.0, 1, -1, 0.5, 1e308, -1e308, 2147483647, 2147483648, -2147483649, 9007199254740993, 1e-320, 255, 256, 65536];

    /// <summary>Returns the serialized mutation of <paramref name="json"/> (1 to 3 edits, mostly 1), sometimes also damaged as bytes.</summary>
    public static byte[] Mutate(string json, Random random, IReadOnlyList<string>? vocabulary = null)
    {
        JsonNode? root = JsonNode.Parse(json);
        int edits = random.Next(3) == 0 ? random.Next(2, 4) : 1; // mostly one edit, so more cases get past the first check
        for (int i = 0; i < edits; i++) root = MutateOnce(root, random, vocabulary);
        string text = root?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 1024 }) ?? "null";
        text = text.Replace(LoneHigh, "\\ud800").Replace(LoneLow, "\\udfff");
        byte[] bytes = ReplaceInvalid(Encoding.UTF8.GetBytes(text));
        return random.Next(8) == 0 ? ByteMutator.Mutate(bytes, random) : bytes;
    }

    private static byte[] ReplaceInvalid(byte[] bytes)
    {
        byte[] marker = Encoding.ASCII.GetBytes(Invalid);
        if (bytes.AsSpan().IndexOf(marker) < 0) return bytes;
        var output = new List<byte>(bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes.AsSpan(i).StartsWith(marker))
            {
                output.Add(0xFF);
                output.Add(0xC0);
                i += marker.Length - 1;
            }
            else output.Add(bytes[i]);
        }
        return [.. output];
    }

    private static JsonNode? MutateOnce(JsonNode? root, Random random, IReadOnlyList<string>? vocabulary)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        if (nodes.Count == 0) return JsonValue.Create(1);
        JsonNode target = nodes[random.Next(nodes.Count)];
        JsonNode? replacement;
        switch (random.Next(10))
        {
            case 0: replacement = JsonValue.Create(EdgeNumbers[random.Next(EdgeNumbers.Length)]); break;
            case 1: replacement = JsonValue.Create(HostileStrings[random.Next(HostileStrings.Length)]); break;
            case 2: replacement = random.Next(3) switch { 0 => JsonValue.Create(true), 1 => JsonValue.Create(false), _ => null }; break;
            case 3: replacement = new JsonArray(); break;
            case 4: replacement = new JsonObject(); break;
            case 5: replacement = nodes[random.Next(nodes.Count)].DeepClone(); break;
            case 6: replacement = Deep(random.Next(2, 200), random.Next(2) == 0); break;
            case 7: replacement = vocabulary is { Count: > 0 } ? JsonValue.Create(vocabulary[random.Next(vocabulary.Count)]) : JsonValue.Create(random.Next()); break;
            case 8:
                // Edit a container instead: delete, duplicate or rename a member.
                if (target is JsonObject obj && obj.Count > 0)
                {
                    var key = obj.ElementAt(random.Next(obj.Count)).Key;
                    switch (random.Next(3))
                    {
                        case 0: obj.Remove(key); break;
                        case 1: obj[key + "_"] = obj[key]?.DeepClone(); break;
                        default: obj[HostileStrings[random.Next(HostileStrings.Length)]] = obj[key]?.DeepClone(); obj.Remove(key); break;
                    }
                    return root;
                }
                if (target is JsonArray array && array.Count > 0)
                {
                    int at = random.Next(array.Count);
                    if (random.Next(2) == 0) array.RemoveAt(at);
                    else array.Insert(at, array[at]?.DeepClone());
                    return root;
                }
                replacement = JsonValue.Create(random.Next(-5, 5));
                break;
            default:
                replacement = target is JsonValue value && value.TryGetValue(out long number)
                    ? JsonValue.Create(number + random.Next(-2, 3) * (random.Next(2) == 0 ? 1 : 1L << random.Next(1, 40)))
                    : JsonValue.Create(random.Next(-3, 70000));
                break;
        }
        return Replace(root, target, replacement);
    }

    private static JsonNode Deep(int depth, bool arrays)
    {
        JsonNode node = JsonValue.Create(1);
        for (int i = 0; i < depth; i++) node = arrays ? new JsonArray(node) : new JsonObject { ["a"] = node };
        return node;
    }

    private static void Collect(JsonNode? node, List<JsonNode> nodes)
    {
        if (node is null) return;
        nodes.Add(node);
        if (nodes.Count > 20_000) return;
        switch (node)
        {
            case JsonObject obj: foreach (var member in obj) Collect(member.Value, nodes); break;
            case JsonArray array: foreach (var item in array) Collect(item, nodes); break;
        }
    }

    private static JsonNode? Replace(JsonNode? root, JsonNode target, JsonNode? replacement)
    {
        if (target == root) return replacement;
        if (replacement?.Parent is not null) replacement = replacement.DeepClone();
        switch (target.Parent)
        {
            case JsonObject parent:
                parent[target.GetPropertyName()] = replacement;
                break;
            case JsonArray parent:
                parent[target.GetElementIndex()] = replacement;
                break;
        }
        return root;
    }
}
