namespace Dclm.Data.Documents;

/// <summary>
/// One web page or text record moving through the pipeline. <see cref="Text"/> is replaced by stages that
/// modify content (extraction, line removals, paragraph dedup); the identity fields never change.
/// </summary>
public sealed class Document
{
    /// <summary>Creates a document.</summary>
    /// <param name="id">Stable identifier, unique within a run (WARC-Record-ID, file path or JSONL id).</param>
    /// <param name="url">Original location (WARC-Target-URI, file path); may be empty.</param>
    /// <param name="source">Corpus name used for reporting and mixing weights.</param>
    /// <param name="text">Current content: raw HTML before extraction, plain text afterwards.</param>
    public Document(string id, string url, string source, string text)
    {
        Id = id;
        Url = url;
        Source = source;
        Text = text;
    }

    /// <summary>Stable identifier, unique within a run.</summary>
    public string Id { get; }

    /// <summary>Original location of the page; may be empty.</summary>
    public string Url { get; }

    /// <summary>Corpus name used for reporting and mixing.</summary>
    public string Source { get; }

    private string _text = "";
    private int _utf8Length = -1;

    /// <summary>Current content of the document.</summary>
    public string Text
    {
        get => _text;
        set
        {
            if (!ReferenceEquals(value, _text)) _utf8Length = -1;
            _text = value;
        }
    }

    /// <summary>UTF-8 size of <see cref="Text"/>, computed once per text (stages count bytes in and out).</summary>
    public int Utf8Length => _utf8Length >= 0 ? _utf8Length : _utf8Length = System.Text.Encoding.UTF8.GetByteCount(_text);

    /// <summary>True while <see cref="Text"/> still holds HTML that the extraction stage must convert.</summary>
    public bool IsHtml { get; set; }

    /// <summary>English confidence from language identification, when that stage ran.</summary>
    public double? LanguageScore { get; set; }

    /// <summary>Words counted before the line modifiers (DCLM's <c>previous_word_count</c>), for the removal-ratio rule.</summary>
    public int? WordCountBeforeEdits { get; set; }

    /// <summary>The evaluation task this page overlaps, when decontamination runs in report mode.</summary>
    public string? ContaminatedBy { get; set; }

    /// <summary>Quality classifier probability of the positive class, when that stage ran.</summary>
    public double? QualityScore { get; set; }
}
