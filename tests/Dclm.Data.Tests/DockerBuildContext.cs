using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Dclm.Data.Tests;

/// <summary>
/// The repository as <c>docker build .</c> sees it: the Dockerfile's stages and COPY instructions, the
/// .dockerignore rules (Docker's syntax: <c>*</c>, <c>**</c>, <c>?</c>, a leading <c>!</c> re-includes, the last
/// matching rule wins, a rule matching a folder excludes everything below it), and the files the projects a
/// <c>dotnet publish</c> builds reach outside their own folders.
/// </summary>
internal sealed class DockerBuildContext
{
    private readonly List<(Regex Pattern, bool Exclude)> _ignore;

    public string Root { get; }
    public IReadOnlyList<string> Dockerfile { get; }

    private DockerBuildContext(string root)
    {
        Root = root;
        Dockerfile = File.ReadAllLines(Path.Combine(root, "Dockerfile"));
        string ignoreFile = Path.Combine(root, ".dockerignore");
        _ignore = !File.Exists(ignoreFile) ? new() : File.ReadAllLines(ignoreFile)
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.StartsWith('!') ? (Glob(l[1..]), false) : (Glob(l), true)).ToList();
    }

    /// <summary>The repository holding the test binaries (the folder with DclmSharp.slnx above them).</summary>
    public static DockerBuildContext OfRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "DclmSharp.slnx"))) return new DockerBuildContext(directory.FullName);
        throw new InvalidOperationException("repository root (DclmSharp.slnx) not found above the test binaries");
    }

    /// <summary>The stages' FROM lines, in order.</summary>
    public List<string> Stages => Dockerfile.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

    /// <summary>The instruction lines of the stage named <paramref name="stage"/> (from its FROM to the next).</summary>
    public List<string> StageLines(string stage)
    {
        var lines = new List<string>();
        bool inside = false;
        foreach (var line in Dockerfile)
        {
            if (line.StartsWith("FROM ", StringComparison.Ordinal)) inside = line.EndsWith($" AS {stage}", StringComparison.Ordinal);
            else if (inside) lines.Add(line);
        }
        return lines;
    }

    /// <summary>The build-context sources of a stage's COPY instructions (not COPY --from), normalized to relative paths without a trailing slash.</summary>
    public List<string> CopiedSources(string stage) => StageLines(stage)
        .Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=", StringComparison.Ordinal))
        .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
        .Select(s => s.TrimEnd('/')).ToList();

    /// <summary>Whether .dockerignore keeps <paramref name="relativePath"/> (or a folder above it) out of the context.</summary>
    public bool IsIgnored(string relativePath)
    {
        var parts = relativePath.Replace('\\', '/').Trim('/').Split('/');
        for (int n = 1; n <= parts.Length; n++)
        {
            string prefix = string.Join('/', parts[..n]);
            bool? excluded = null;
            foreach (var (pattern, exclude) in _ignore) if (pattern.IsMatch(prefix)) excluded = exclude;
            if (excluded == true) return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="relativePath"/> is inside one of <paramref name="sources"/> and not ignored.</summary>
    public bool IsInside(string relativePath, IEnumerable<string> sources)
    {
        string path = relativePath.Replace('\\', '/');
        return !IsIgnored(path) && sources.Any(s => path == s || path.StartsWith(s + "/", StringComparison.Ordinal));
    }

    /// <summary>
    /// <paramref name="project"/> and every project it reaches through ProjectReference, and for each the repository-relative
    /// paths its items (Compile, None, EmbeddedResource, Content, ProjectReference…) name outside the project's folder,
    /// cut before the first wildcard. Paths built from MSBuild properties (the NuGet cache) are left out.
    /// </summary>
    public List<(string Project, string Path)> FilesOutsideProjects(string project)
    {
        var found = new List<(string, string)>();
        var seen = new HashSet<string>();
        var pending = new Queue<string>([Path.GetFullPath(Path.Combine(Root, project))]);
        while (pending.Count > 0)
        {
            string file = pending.Dequeue();
            if (!seen.Add(file)) continue;
            string folder = Path.GetDirectoryName(file)!;
            foreach (var item in XDocument.Load(file).Descendants().Where(e => e.Parent?.Name.LocalName == "ItemGroup"))
            {
                foreach (var include in ((string?)item.Attribute("Include") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (include.Contains("$(", StringComparison.Ordinal)) continue;
                    string literal = include.Split('*')[0];
                    string full = Path.GetFullPath(Path.Combine(folder, literal.Length == 0 ? "." : literal));
                    if (item.Name.LocalName == "ProjectReference") pending.Enqueue(full);
                    if (!full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        found.Add((Path.GetRelativePath(Root, file), Path.GetRelativePath(Root, full)));
                }
            }
        }
        return found;
    }

    /// <summary>Docker's path patterns (Go's filepath.Match plus <c>**</c> for any number of folders) as a regular expression.</summary>
    private static Regex Glob(string pattern)
    {
        var text = new System.Text.StringBuilder("^");
        string p = pattern.Trim('/');
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == '*' && i + 1 < p.Length && p[i + 1] == '*')
            {
                bool slash = i + 2 < p.Length && p[i + 2] == '/';
                text.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (p[i] == '*') text.Append("[^/]*");
            else if (p[i] == '?') text.Append("[^/]");
            else text.Append(Regex.Escape(p[i].ToString()));
        }
        return new Regex(text.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
