using System.IO.Compression;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Dclm.Data.Decontamination;

/// <summary>One evaluation task's texts: every string field of every item, each kept apart.</summary>
public sealed record EvalTaskTexts(string Label, string Path, IReadOnlyList<IReadOnlyList<string>> Items);

/// <summary>
/// Reads the evaluation tasks to decontaminate against, in the formats <c>dclm eval</c> reads: JSONL files (plain or
/// .gz, one item per line: multiple choice, schema, language modeling, generation and HumanEval records alike), folders
/// of them, and llm-foundry suite YAML files (their <c>icl_tasks[].dataset_uri</c>). An item's texts are all its string
/// values (strings in arrays and nested objects too), except identifiers and labels.
/// </summary>
public static class EvalTaskFiles
{
    private static readonly HashSet<string> Metadata = new(StringComparer.OrdinalIgnoreCase)
        { "id", "task_id", "source", "pool", "label", "answerKey", "entry_point", "gold" };

    /// <summary>Reads every task named by <paramref name="entries"/> (files, folders, suite YAML files).</summary>
    public static List<EvalTaskTexts> Read(IEnumerable<string> entries)
    {
        var tasks = new List<EvalTaskTexts>();
        foreach (var entry in entries)
        {
            if (Directory.Exists(entry))
            {
                foreach (var file in Directory.EnumerateFiles(entry, "*", SearchOption.AllDirectories).Where(IsTaskFile).Order(StringComparer.Ordinal))
                    tasks.Add(ReadJsonl(file, LabelOf(file)));
            }
            else if (entry.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || entry.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                tasks.AddRange(ReadSuite(entry));
            else if (File.Exists(entry)) tasks.Add(ReadJsonl(entry, LabelOf(entry)));
            else throw new FileNotFoundException($"{entry}: evaluation task file or folder not found", entry);
        }
        return tasks;
    }

    private static bool IsTaskFile(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase);

    private static string LabelOf(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        foreach (var suffix in new[] { ".jsonl.gz", ".jsonl" }) if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return name[..^suffix.Length];
        return name;
    }

    private static IEnumerable<EvalTaskTexts> ReadSuite(string path)
    {
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException error)
        {
            throw new InvalidDataException($"{path}: line {error.Start.Line}: {error.Message}");
        }
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("icl_tasks"), out var tasks) || tasks is not YamlSequenceNode list)
            throw new InvalidDataException($"{path}: not a task suite (no icl_tasks list)");
        foreach (var task in list.OfType<YamlMappingNode>())
        {
            string? Value(string key) => task.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode scalar ? scalar.Value : null;
            var uri = Value("dataset_uri") ?? throw new InvalidDataException($"{path}: a task without dataset_uri");
            var file = System.IO.Path.IsPathRooted(uri) ? uri : System.IO.Path.Combine(directory, uri);
            if (!File.Exists(file)) throw new FileNotFoundException($"{path}: dataset_uri {uri} not found", file);
            yield return ReadJsonl(file, Value("label") ?? LabelOf(file));
        }
    }

    private static EvalTaskTexts ReadJsonl(string path, string label)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var items = new List<IReadOnlyList<string>>();
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var texts = new List<string>();
                Collect(document.RootElement, null, texts);
                items.Add(texts);
            }
            catch (JsonException error)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({error.Message})");
            }
        }
        return new EvalTaskTexts(label, path, items);
    }

    private static void Collect(JsonElement element, string? key, List<string> texts)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String when key is null || !Metadata.Contains(key):
                texts.Add(element.GetString()!);
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) Collect(item, key, texts);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) Collect(property.Value, property.Name, texts);
                break;
        }
    }
}
