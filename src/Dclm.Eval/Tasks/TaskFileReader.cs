using System.IO.Compression;
using System.Text.Json;

namespace Dclm.Eval.Tasks;

/// <summary>
/// Reads task items from JSONL (optionally gzip-compressed): llm-foundry's in-context-learning formats
/// ({query, choices, gold}, {context_options, continuation, gold}, {context, continuation},
/// {context, answer, aliases}), lm-evaluation-harness-style records ({question|ctx, choices|endings,
/// answer|label|answerKey}, ARC's {choices: {text, label}}, PIQA's {goal, sol1, sol2, label}, Winogrande's
/// {sentence, option1, option2, answer}), {question, choices, answer}, and HumanEval's
/// {task_id, prompt, canonical_solution, test, entry_point}. Errors name the file and line.
/// </summary>
public static class TaskFileReader
{
    private static readonly string[] QueryKeys = ["query", "question", "context", "ctx", "prompt"];
    private static readonly string[] ChoiceKeys = ["choices", "endings", "options"];
    private static readonly string[] GoldKeys = ["gold", "label", "answer", "answerKey"];

    /// <summary>Reads every item of <paramref name="path"/>; <paramref name="kind"/> null infers it from the first record.</summary>
    public static (TaskKind Kind, IReadOnlyList<TaskItem> Items) Read(string path, TaskKind? kind = null, bool strip = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such task file");
        var items = new List<TaskItem>();
        int lineNumber = 0;
        using var stream = OpenText(path);
        string? line;
        while ((line = stream.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try { document = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({e.Message})"); }
            using (document)
            {
                var record = document.RootElement;
                if (record.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}:{lineNumber}: a record must be a JSON object");
                kind ??= Infer(record) ?? throw new InvalidDataException($"{path}:{lineNumber}: cannot tell the task type from the fields ({string.Join(", ", record.EnumerateObject().Select(p => p.Name))}); name it with icl_task_type");
                string id = Text(record, "id") ?? Text(record, "task_id") ?? (items.Count).ToString(System.Globalization.CultureInfo.InvariantCulture);
                try { items.Add(Parse(record, kind.Value, id, strip) with { Category = Text(record, "category") }); }
                catch (FormatException e) { throw new InvalidDataException($"{path}:{lineNumber}: {e.Message}"); }
            }
        }
        if (items.Count == 0) throw new InvalidDataException($"{path}: holds no records");
        return (kind!.Value, items);
    }

    private static StreamReader OpenText(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream, System.Text.Encoding.UTF8);
    }

    /// <summary>Which kind a record's fields describe, or null when none fits.</summary>
    public static TaskKind? Infer(JsonElement record)
    {
        bool Has(string key) => record.TryGetProperty(key, out _);
        if (Has("task_id") && Has("prompt") && Has("test") && Has("entry_point")) return TaskKind.Code;
        if (Has("context_options") || (Has("sentence") && Has("option1"))) return TaskKind.Schema;
        if (Has("goal") && Has("sol1")) return TaskKind.MultipleChoice;
        if (ChoiceKeys.Any(Has)) return TaskKind.MultipleChoice;
        if (Has("context") && Has("continuation")) return TaskKind.LanguageModeling;
        if ((Has("context") || Has("question")) && Has("answer")) return TaskKind.Generation;
        return null;
    }

    private static TaskItem Parse(JsonElement record, TaskKind kind, string id, bool strip)
    {
        string Clean(string s) => strip ? s.Trim() : s;
        switch (kind)
        {
            case TaskKind.MultipleChoice when Text(record, "goal") is string goal:
            {
                // PIQA in the harness's layout: {goal, sol1, sol2, label}.
                string[] solutions = [Text(record, "sol1") ?? throw new FormatException("missing sol1"), Text(record, "sol2") ?? throw new FormatException("missing sol2")];
                return new MultipleChoiceItem(Clean(goal), solutions, Gold(record, solutions, null)) { Id = id };
            }
            case TaskKind.Schema when Text(record, "sentence") is string sentence:
                return Winogrande(sentence, record, id, Clean);
            case TaskKind.MultipleChoice:
            {
                string query = First(record, QueryKeys) ?? throw new FormatException("missing the question (query, question, context or ctx)");
                var (choices, labels) = Choices(record);
                int gold = Gold(record, choices, labels);
                return new MultipleChoiceItem(Clean(query), choices, gold) { Id = id };
            }
            case TaskKind.Schema:
            {
                var (options, _) = StringList(record, "context_options");
                string continuation = Text(record, "continuation") ?? throw new FormatException("missing continuation");
                int gold = Gold(record, options, null);
                return new SchemaItem(options.Select(Clean).ToArray(), Clean(continuation), gold) { Id = id };
            }
            case TaskKind.LanguageModeling:
                return new LanguageModelingItem(
                    Clean(Text(record, "context") ?? throw new FormatException("missing context")),
                    Clean(Text(record, "continuation") ?? throw new FormatException("missing continuation"))) { Id = id };
            case TaskKind.Generation:
            {
                string context = Text(record, "context") ?? Text(record, "question") ?? throw new FormatException("missing context");
                string answer = Text(record, "answer") ?? throw new FormatException("missing answer (a string)");
                var aliases = record.TryGetProperty("aliases", out _) ? StringList(record, "aliases").Items : [];
                return new GenerationItem(Clean(context), Clean(answer), aliases) { Id = id };
            }
            default:
                return new CodeItem(
                    Text(record, "prompt") ?? throw new FormatException("missing prompt"),
                    Text(record, "canonical_solution") ?? "",
                    Text(record, "test") ?? throw new FormatException("missing test"),
                    Text(record, "entry_point") ?? throw new FormatException("missing entry_point")) { Id = id };
        }
    }

    /// <summary>
    /// Winogrande in the harness's layout ({sentence with one "_", option1, option2, answer "1"|"2"}) as a
    /// schema item, split as llm-foundry's copy is: each option fills the blank, the text after it is shared.
    /// </summary>
    private static SchemaItem Winogrande(string sentence, JsonElement record, string id, Func<string, string> clean)
    {
        int blank = sentence.IndexOf('_');
        if (blank < 0) throw new FormatException("sentence has no '_' blank");
        string[] options = [Text(record, "option1") ?? throw new FormatException("missing option1"), Text(record, "option2") ?? throw new FormatException("missing option2")];
        string answer = Text(record, "answer") ?? throw new FormatException("missing answer (\"1\" or \"2\")");
        int gold = answer.Trim() switch { "1" => 0, "2" => 1, _ => throw new FormatException($"answer '{answer}' must be \"1\" or \"2\"") };
        string prefix = sentence[..blank];
        return new SchemaItem(options.Select(o => clean(prefix + o)).ToArray(), clean(sentence[(blank + 1)..]), gold) { Id = id };
    }

    private static (string[] Items, string[]? Labels) Choices(JsonElement record)
    {
        foreach (var key in ChoiceKeys)
        {
            if (!record.TryGetProperty(key, out var value)) continue;
            // ARC in the harness's layout: {"text": [...], "label": ["A", "B", ...]}.
            if (value.ValueKind == JsonValueKind.Object)
            {
                var (texts, _) = StringList(value, "text");
                string[]? labels = value.TryGetProperty("label", out _) ? StringList(value, "label").Items : null;
                if (labels is not null && labels.Length != texts.Length) throw new FormatException($"{key}.label has {labels.Length} entries but {key}.text has {texts.Length}");
                return Require(texts, labels, key);
            }
            return Require(StringList(record, key).Items, null, key);
        }
        throw new FormatException("missing choices");

        static (string[], string[]?) Require(string[] choices, string[]? labels, string key) =>
            choices.Length >= 2 ? (choices, labels) : throw new FormatException($"{key} needs at least two entries, has {choices.Length}");
    }

    private static int Gold(JsonElement record, string[] choices, string[]? labels)
    {
        foreach (var key in GoldKeys)
        {
            if (!record.TryGetProperty(key, out var value)) continue;
            int index;
            if (value.ValueKind == JsonValueKind.Number)
            {
                if (!value.TryGetInt32(out index)) throw new FormatException($"{key} must be an integer index");
            }
            else if (value.ValueKind == JsonValueKind.String)
            {
                string s = value.GetString()!.Trim();
                if (labels is not null && Array.IndexOf(labels, s) is int l and >= 0) index = l;
                else if (int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)) index = n;
                else if (s.Length == 1 && char.IsAsciiLetterUpper(s[0])) index = s[0] - 'A';
                else if (Array.IndexOf(choices, s) is int c and >= 0) index = c;
                else throw new FormatException($"{key} '{s}' is neither an index, a letter nor one of the choices");
            }
            else throw new FormatException($"{key} must be a number or a string");
            if ((uint)index >= (uint)choices.Length) throw new FormatException($"{key} {index} is outside the {choices.Length} choices");
            return index;
        }
        throw new FormatException("missing the correct answer (gold, label, answer or answerKey)");
    }

    private static (string[] Items, int Count) StringList(JsonElement record, string key)
    {
        if (!record.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.Array) throw new FormatException($"{key} must be an array of strings");
        var list = new List<string>();
        foreach (var element in value.EnumerateArray())
            list.Add(element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new FormatException($"{key} must hold only strings"));
        return (list.ToArray(), list.Count);
    }

    private static string? First(JsonElement record, string[] keys)
    {
        foreach (var key in keys) if (Text(record, key) is string s) return s;
        return null;
    }

    private static string? Text(JsonElement record, string key) =>
        record.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
