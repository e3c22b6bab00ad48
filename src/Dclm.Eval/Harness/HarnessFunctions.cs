using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Dclm.Eval.Harness;

/// <summary>Maps a task's rows to the documents its prompts read (the harness's <c>process_docs</c>).</summary>
public delegate IReadOnlyList<JsonObject> DocumentProcessor(IReadOnlyList<JsonObject> rows);

/// <summary>
/// The Python functions lm-evaluation-harness's task files point at with <c>!function</c>, written again
/// here: HellaSwag's <c>utils.process_docs</c> and Winogrande's <c>preprocess_winogrande</c> functions. The
/// recorded prompts of the harness's own code (tests/Dclm.Eval.Tests/fixtures/harness) check them.
/// </summary>
public static partial class HarnessFunctions
{
    /// <summary>A document function by its task-file name.</summary>
    public static Func<JsonObject, object?> Document(string name, string where) => name switch
    {
        "preprocess_winogrande.doc_to_text" => WinograndeGold,
        "preprocess_winogrande.doc_to_target" => WinograndeTarget,
        "preprocess_winogrande.doc_to_choice" => WinograndeContexts,
        _ => throw new InvalidDataException($"{where}: unknown function '{name}' (known: preprocess_winogrande.doc_to_text, preprocess_winogrande.doc_to_target, preprocess_winogrande.doc_to_choice)"),
    };

    /// <summary>A process_docs function by its task-file name.</summary>
    public static DocumentProcessor Processor(string name, string where) => name switch
    {
        "utils.process_docs" or "hellaswag.process_docs" => rows => rows.Select(HellaSwag).ToList(),
        _ => throw new InvalidDataException($"{where}: unknown process_docs function '{name}' (known: utils.process_docs of hellaswag)"),
    };

    /// <summary>
    /// HellaSwag: query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices =
    /// preprocess(each ending), gold = int(label); the new fields are added beside the old ones, as
    /// datasets.map does.
    /// </summary>
    public static JsonObject HellaSwag(JsonObject row)
    {
        string ctx = Text(row, "ctx_a") + " " + PythonText.Capitalize(Text(row, "ctx_b"));
        var processed = (JsonObject)row.DeepClone();
        processed["query"] = Preprocess(Text(row, "activity_label") + ": " + ctx);
        processed["choices"] = new JsonArray(Strings(row, "endings").Select(e => (JsonNode?)JsonValue.Create(Preprocess(e))).ToArray());
        processed["gold"] = int.TryParse(Template.Render(Template.FromJson(row["label"])), out int gold) ? gold : throw new FormatException($"label '{row["label"]}' is not an integer");
        return processed;
    }

    /// <summary>HellaSwag's preprocess: strip, " [title]" → ". ", drop [bracketed] artifacts, "  " → " " (one pass).</summary>
    public static string Preprocess(string text)
    {
        text = PythonText.Strip(text);
        text = text.Replace(" [title]", ". ", StringComparison.Ordinal);
        text = Brackets().Replace(text, "");
        return text.Replace("  ", " ", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\[.*?\]")]
    private static partial Regex Brackets();

    /// <summary>Winogrande's doc_to_text: the gold option's index ("1" → 0, "2" → 1); an integer means one context per choice.</summary>
    public static object? WinograndeGold(JsonObject row) => Text(row, "answer") switch
    {
        "1" => 0L,
        "2" => 1L,
        var answer => throw new FormatException($"answer '{answer}' must be \"1\" or \"2\""),
    };

    /// <summary>Winogrande's doc_to_target: the sentence after the blank, stripped.</summary>
    public static object? WinograndeTarget(JsonObject row)
    {
        string sentence = Text(row, "sentence");
        return PythonText.Strip(sentence[(Blank(sentence) + 1)..]);
    }

    /// <summary>Winogrande's doc_to_choice: the sentence up to the blank followed by each option.</summary>
    public static object? WinograndeContexts(JsonObject row)
    {
        string sentence = Text(row, "sentence");
        string prefix = sentence[..Blank(sentence)];
        return new List<object?> { prefix + Text(row, "option1"), prefix + Text(row, "option2") };
    }

    private static int Blank(string sentence) => sentence.IndexOf('_') is int i and >= 0 ? i : throw new FormatException("sentence has no '_' blank");

    private static string Text(JsonObject row, string field) =>
        row[field] is JsonValue v && v.TryGetValue(out string? s) ? s : throw new FormatException($"missing text field '{field}'");

    private static IEnumerable<string> Strings(JsonObject row, string field) =>
        row[field] is JsonArray array ? array.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : throw new FormatException($"{field} must hold only strings"))
            : throw new FormatException($"missing list field '{field}'");
}
