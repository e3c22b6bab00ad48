using System.Text;
using System.Text.Json;

namespace Dclm.Inference.Constraints;

/// <summary>
/// A JSON Schema compiled into the grammar of the replies it allows (OpenAI's structured outputs), for
/// <see cref="JsonSchemaGrammar"/>. Replies are written canonically: objects list every property in the
/// schema's order as <c>{"a": 1, "b": "x"}</c> (optional ones may be left out, required ones may not), arrays
/// as <c>[1, 2]</c>, no other whitespace, so every reply is valid against the schema. Supported: <c>type</c> (object, array, string, number, integer, boolean,
/// null, or a list of them), <c>properties</c>, <c>required</c>, <c>additionalProperties: false</c>,
/// <c>items</c>, <c>enum</c>, <c>const</c>, <c>anyOf</c>/<c>oneOf</c> whose branches start differently, and the
/// annotations (<c>description</c>, <c>title</c>, <c>format</c>, <c>default</c>, …). Any keyword that would
/// constrain values in a way the grammar does not enforce (<c>pattern</c>, <c>minimum</c>, <c>$ref</c>, …) is
/// refused by name, so a schema is never silently loosened.
/// </summary>
public sealed class JsonSchemaProgram
{
    /// <summary>Deepest nesting of objects and arrays a schema may have.</summary>
    public const int MaxDepth = 16;
    private const int MaxNodes = 4096;

    private static readonly HashSet<string> Annotations =
        ["type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "oneOf",
         "description", "title", "format", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "nullable"];

    internal enum Kind : byte { Object, Array, Union, String, Number, Integer, Literals }

    internal sealed class Node
    {
        public Kind Kind;
        // Object: its properties' nodes in order, and at each place (after property i, and whether any was
        // written) the texts that may come next — ", \"name\": " for a later property (skipping only optional
        // ones) or "}" when none of the rest is required — with the property each leads to (-1: the close).
        public int[] Properties = [];
        public (byte[][] Texts, int[] Targets)[] Choices = [];
        public int Child = -1; // Array: the items' node
        public int[] Branches = []; // Union
        public byte[][] Alternatives = []; // Literals
        public bool[] Starts = []; // the bytes a value may start with
    }

    internal readonly List<Node> Nodes = [];

    private JsonSchemaProgram() { }

    /// <summary>Compiles <paramref name="schema"/>, whose root must be an object; throws <see cref="ArgumentException"/> naming what it cannot honour.</summary>
    public static JsonSchemaProgram Compile(JsonElement schema)
    {
        var program = new JsonSchemaProgram();
        int root = program.Add(schema, "schema", 0);
        if (program.Nodes[root].Kind != Kind.Object || program.First(root) is not [(byte)'{'])
            throw new ArgumentException("the schema's root must be an object (type: object with properties)");
        if (root != 0) throw new InvalidOperationException("the root is compiled first");
        for (int i = 0; i < program.Nodes.Count; i++)
        {
            program.Nodes[i].Starts = new bool[256];
            foreach (byte b in program.First(i)) program.Nodes[i].Starts[b] = true;
        }
        return program;
    }

    private int Add(JsonElement schema, string path, int depth)
    {
        if (Nodes.Count >= MaxNodes) throw new ArgumentException($"the schema is too large (over {MaxNodes} parts)");
        if (schema.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{path} must be a schema object");
        foreach (var keyword in schema.EnumerateObject())
            if (!Annotations.Contains(keyword.Name))
                throw new ArgumentException($"{path}: the keyword '{keyword.Name}' is not supported (the reply could break it)");
        if (schema.TryGetProperty("const", out var constant)) return Literals(path, [constant]);
        if (schema.TryGetProperty("enum", out var values))
            return values.ValueKind == JsonValueKind.Array && values.GetArrayLength() is > 0 and <= 128
                ? Literals(path, [.. values.EnumerateArray()])
                : throw new ArgumentException($"{path}: enum must list 1 to 128 values");
        foreach (string union in new[] { "anyOf", "oneOf" })
            if (schema.TryGetProperty(union, out var branches))
                return branches.ValueKind == JsonValueKind.Array && branches.GetArrayLength() > 0
                    ? Union(path, branches.EnumerateArray().Select((b, i) => Add(b, $"{path}.{union}[{i}]", depth)).ToArray())
                    : throw new ArgumentException($"{path}: {union} must list schemas");
        if (!schema.TryGetProperty("type", out var type)) throw new ArgumentException($"{path} needs a type");
        if (type.ValueKind == JsonValueKind.Array)
            return type.GetArrayLength() > 0
                ? Union(path, type.EnumerateArray().Select(t => Typed(schema, TypeName(t, path), path, depth)).ToArray())
                : throw new ArgumentException($"{path}: type lists no types");
        return Typed(schema, TypeName(type, path), path, depth);
    }

    private static string TypeName(JsonElement type, string path) => type.ValueKind == JsonValueKind.String
        ? type.GetString()!
        : throw new ArgumentException($"{path}: type must be a type name (\"object\", \"string\", …) or a list of them, not {Shorten(type.GetRawText())}");

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private int Typed(JsonElement schema, string type, string path, int depth)
    {
        switch (type)
        {
            case "string": return New(new Node { Kind = Kind.String });
            case "number": return New(new Node { Kind = Kind.Number });
            case "integer": return New(new Node { Kind = Kind.Integer });
            case "boolean": return New(new Node { Kind = Kind.Literals, Alternatives = ["true"u8.ToArray(), "false"u8.ToArray()] });
            case "null": return New(new Node { Kind = Kind.Literals, Alternatives = ["null"u8.ToArray()] });
            case "array":
                if (depth == MaxDepth) throw new ArgumentException($"{path}: nested deeper than {MaxDepth}");
                if (!schema.TryGetProperty("items", out var items)) throw new ArgumentException($"{path}: an array needs items");
                var array = new Node { Kind = Kind.Array };
                int arrayNode = New(array);
                array.Child = Add(items, path + ".items", depth + 1);
                return arrayNode;
            case "object":
                if (depth == MaxDepth) throw new ArgumentException($"{path}: nested deeper than {MaxDepth}");
                if (schema.TryGetProperty("additionalProperties", out var extra) && extra.ValueKind != JsonValueKind.False)
                    throw new ArgumentException($"{path}: additionalProperties other than false is not supported");
                var node = new Node { Kind = Kind.Object };
                int index = New(node);
                var names = new List<string>();
                var children = new List<int>();
                if (schema.TryGetProperty("properties", out var properties))
                {
                    if (properties.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{path}.properties must be an object");
                    foreach (var property in properties.EnumerateObject())
                    {
                        names.Add(property.Name);
                        children.Add(Add(property.Value, $"{path}.properties.{property.Name}", depth + 1));
                    }
                }
                var required = new HashSet<string>();
                if (schema.TryGetProperty("required", out var list) && list.ValueKind != JsonValueKind.Array)
                    throw new ArgumentException($"{path}: required must be an array of property names");
                if (list.ValueKind == JsonValueKind.Array)
                    foreach (var name in list.EnumerateArray())
                        if (name.ValueKind != JsonValueKind.String || !names.Contains(name.GetString()!))
                            throw new ArgumentException($"{path}: required names {Shorten(name.GetRawText())}, which is not among its properties");
                        else required.Add(name.GetString()!);
                node.Properties = [.. children];
                node.Choices = new (byte[][], int[])[2 * (names.Count + 1)];
                for (int position = 0; position <= names.Count; position++)
                    foreach (bool written in new[] { false, true })
                    {
                        var texts = new List<byte[]>();
                        var targets = new List<int>();
                        int next = position;
                        for (; next < names.Count; next++)
                        {
                            texts.Add(Encoding.UTF8.GetBytes((written ? ", " : "") + JsonSerializer.Serialize(names[next]) + ": "));
                            targets.Add(next);
                            if (required.Contains(names[next])) break;
                        }
                        if (next == names.Count) { texts.Add("}"u8.ToArray()); targets.Add(-1); }
                        if (texts.Count > 128) throw new ArgumentException($"{path}: more than 127 optional properties in a row");
                        node.Choices[position * 2 + (written ? 1 : 0)] = ([.. texts], [.. targets]);
                    }
                return index;
            default: throw new ArgumentException($"{path}: type '{type}' is not a JSON Schema type");
        }
    }

    private int Literals(string path, IReadOnlyList<JsonElement> values)
    {
        var texts = values.Select(v => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(v))).ToArray();
        return New(new Node { Kind = Kind.Literals, Alternatives = texts });
    }

    private int Union(string path, int[] branches)
    {
        // Each branch must be told apart by its first byte, so the grammar never has to guess.
        var seen = new HashSet<byte>();
        foreach (int branch in branches)
            foreach (byte b in First(branch))
                if (!seen.Add(b)) throw new ArgumentException($"{path}: its alternatives may start alike ('{(char)b}'); only alternatives of different kinds are supported");
        return New(new Node { Kind = Kind.Union, Branches = branches });
    }

    private int New(Node node)
    {
        Nodes.Add(node);
        return Nodes.Count - 1;
    }

    /// <summary>The bytes a value of <paramref name="node"/> may start with.</summary>
    internal byte[] First(int node)
    {
        var n = Nodes[node];
        return n.Kind switch
        {
            Kind.Object => [(byte)'{'],
            Kind.Array => [(byte)'['],
            Kind.Union => n.Branches.SelectMany(First).Distinct().ToArray(),
            Kind.String => [(byte)'"'],
            Kind.Number or Kind.Integer => "-0123456789"u8.ToArray(),
            _ => n.Alternatives.Select(a => a[0]).Distinct().ToArray(),
        };
    }

    /// <summary>The grammar at the start of a reply.</summary>
    public JsonSchemaGrammar Start() => new(this);
}
