//! `src/sys.rs` is written by hand; `kasko.h` is generated from the library.
//! This test reads both and checks, both ways, that they declare the same
//! facts: every enum constant and `KASKO_VERSION_*` number (value and type),
//! every enum's Rust type, every opaque struct, and every function (name,
//! parameter types, return type). The header is `$KASKO_INCLUDE_DIR/kasko.h`,
//! else `../../include/kasko.h` (the libkasko tree this crate lives in).
use std::collections::BTreeMap;
use std::path::PathBuf;

fn header_path() -> PathBuf {
    match std::env::var_os("KASKO_INCLUDE_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("kasko.h"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/kasko.h"),
    }
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A function: parameter types and return type, as Rust spells them
/// (whitespace removed; `()` for void).
#[derive(Debug, PartialEq, Eq)]
struct Function {
    params: Vec<String>,
    ret: String,
}

#[derive(Debug, Default)]
struct Declarations {
    /// Constant name -> (type, value). For C: the enum's typedef name, or
    /// `#define` for an integer macro.
    constants: BTreeMap<String, (String, i64)>,
    /// C: enum typedef name -> Rust type it must have. Rust: `pub type`.
    types: BTreeMap<String, String>,
    /// Opaque struct names.
    structs: Vec<String>,
    functions: BTreeMap<String, Function>,
}

/// One spelling of a function pointer type for both sides of the comparison.
fn function_pointer(params: &[String], ret: &str) -> String {
    format!("fn({})->{}", params.join(","), ret)
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `text` without its trailing identifier, and that identifier.
fn split_last_ident(text: &str) -> (&str, &str) {
    let text = text.trim_end();
    let start = text.rfind(|c: char| !is_ident_char(c)).map_or(0, |i| i + 1);
    (&text[..start], &text[start..])
}

fn parse_int(text: &str) -> i64 {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, text),
    };
    let digits = digits.trim_end_matches(['u', 'U', 'l', 'L']);
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => digits.parse(),
    }
    .unwrap_or_else(|_| panic!("not an integer literal: {text:?}"));
    if negative {
        -value
    } else {
        value
    }
}

// ---- C ------------------------------------------------------------------------

/// The C text without comments; preprocessor lines are returned apart.
fn strip_c(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            out.push(' ');
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else if rest.starts_with('"') {
            // A string literal (`extern "C"`): copied as is.
            let end = rest[1..].find('"').map_or(rest.len(), |end| end + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    let mut code = String::new();
    let mut directives = Vec::new();
    let mut continued = false;
    for line in out.lines() {
        if continued || line.trim_start().starts_with('#') {
            continued = line.trim_end().ends_with('\\');
            directives.push(line.trim().to_string());
        } else {
            code.push_str(line);
            code.push('\n');
        }
    }
    (code, directives)
}

/// A C type (`const char *`, `kasko_result **`, `long`) as Rust spells it.
fn c_type_to_rust(c_type: &str) -> String {
    let pointers = c_type.matches('*').count();
    let mut base_const = false;
    let mut words = Vec::new();
    // `const` before the first `*` qualifies the pointee; after it, a pointer
    // itself, which Rust does not spell.
    let first_star = c_type.find('*').unwrap_or(c_type.len());
    for word in c_type[..first_star].split_whitespace() {
        match word {
            "const" => base_const = true,
            "volatile" | "struct" | "enum" => {}
            word => words.push(word),
        }
    }
    let words = words.join(" ");
    let base = match words.as_str() {
        "char" => "c_char",
        "int" | "signed" | "signed int" => "c_int",
        "unsigned" | "unsigned int" => "c_uint",
        "long" | "long int" => "c_long",
        "unsigned long" => "c_ulong",
        "size_t" => "usize",
        "int32_t" => "i32",
        "int64_t" => "i64",
        "uint32_t" => "u32",
        "uint64_t" => "u64",
        "double" => "f64",
        "void" if pointers == 0 => "()",
        "void" => "c_void",
        name if name.starts_with("kasko_") && !name.contains(' ') => name,
        other => panic!("a C type this test does not know: {other:?} in {c_type:?}"),
    };
    if pointers == 0 {
        return base.to_string();
    }
    let mut rust = format!("{}{base}", if base_const { "*const" } else { "*mut" });
    for _ in 1..pointers {
        rust = format!("*mut{rust}");
    }
    rust
}

/// The enum `body` (between the braces): its constants and their values.
fn enum_constants(body: &str) -> Vec<(String, i64)> {
    let mut next = 0i64;
    let mut constants = Vec::new();
    for item in body
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (name, value) = match item.split_once('=') {
            Some((name, value)) => (name.trim(), parse_int(value)),
            None => (item, next),
        };
        assert!(
            !name.is_empty() && name.chars().all(is_ident_char),
            "an enum item this test cannot read: {item:?}"
        );
        constants.push((name.to_string(), value));
        next = value + 1;
    }
    constants
}

fn parse_header(text: &str) -> Declarations {
    let (code, directives) = strip_c(text);
    let mut found = Declarations::default();

    for directive in &directives {
        let words: Vec<&str> = directive.split_whitespace().collect();
        // `# define` is legal C too.
        let words: Vec<&str> = match words.as_slice() {
            ["#", rest @ ..] => std::iter::once("#define")
                .filter(|_| rest.first() == Some(&"define"))
                .chain(rest.iter().skip(1).copied())
                .collect(),
            _ => words,
        };
        if let ["#define", name, value] = words.as_slice() {
            let value = value.trim_start_matches('(').trim_end_matches(')');
            let numeric = value.trim_start_matches('-');
            if name.starts_with("KASKO_") && numeric.starts_with(|c: char| c.is_ascii_digit()) {
                found
                    .constants
                    .insert(name.to_string(), ("#define".into(), parse_int(value)));
            }
        }
    }

    for statement in code.split(';') {
        let mut statement = statement.trim();
        // What follows `extern "C" {` or its closing `}`.
        loop {
            if let Some(rest) = statement.strip_prefix("extern \"C\"") {
                let rest = rest.trim_start();
                statement = rest.strip_prefix('{').expect("extern \"C\" {").trim_start();
            } else if let Some(rest) = statement.strip_prefix('}') {
                statement = rest.trim_start();
            } else {
                break;
            }
        }
        if statement.is_empty() {
            continue;
        }
        let is_enum = statement.starts_with("enum") || statement.starts_with("typedef enum");
        if let Some(open) = statement.find('{').filter(|_| is_enum) {
            // [typedef] enum [tag] { ... } [name]
            let close = statement.rfind('}').expect("an enum's closing brace");
            let head = statement[..open].trim();
            let tag = head
                .rsplit_once("enum")
                .map(|(_, tag)| tag.trim())
                .unwrap_or("");
            let name = statement[close + 1..].trim();
            let name = if name.is_empty() { tag } else { name };
            assert!(!name.is_empty(), "an anonymous enum: {statement}");
            let constants = enum_constants(&statement[open + 1..close]);
            let negative = constants.iter().any(|(_, value)| *value < 0);
            found.types.insert(
                name.to_string(),
                if negative { "c_int" } else { "c_uint" }.to_string(),
            );
            for (constant, value) in constants {
                let old = found
                    .constants
                    .insert(constant.clone(), (name.to_string(), value));
                assert!(old.is_none(), "{constant} is declared twice in the header");
            }
            continue;
        }
        if let Some(rest) = statement.strip_prefix("typedef") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let ["struct", tag, name] = words.as_slice() {
                assert_eq!(tag, name, "typedef struct {tag} {name}");
                found.structs.push(name.to_string());
            } else if let Some(star) = rest.find("(*") {
                // A function pointer: `typedef RET (*NAME)(PARAMS)`, which
                // Rust spells `Option<unsafe extern "C" fn(PARAMS) -> RET>`
                // (NULL is None). Compared by types alone.
                let ret = c_type_to_rust(&rest[..star]);
                let after = &rest[star + 2..];
                let close = after.find(')').expect("typedef RET (*NAME)(...)");
                let name = after[..close].trim();
                let params_text = after[close + 1..].trim().trim_start_matches('(').trim_end_matches(')');
                let params: Vec<String> = params_text
                    .split(',')
                    .filter(|param| !param.trim().is_empty() && param.trim() != "void")
                    .map(|param| c_type_to_rust(split_last_ident(param).0))
                    .collect();
                found.types.insert(name.to_string(), function_pointer(&params, &ret));
            } else {
                panic!("a typedef this test does not know: {statement}");
            }
            continue;
        }
        let Some(open) = statement.find('(') else {
            panic!("a declaration this test does not know: {statement}");
        };
        let close = statement.rfind(')').expect("a closing parenthesis");
        let (ret, name) = split_last_ident(&statement[..open]);
        assert!(
            name.starts_with("kasko_"),
            "a function without the prefix: {name}"
        );
        let after = statement[close + 1..].trim();
        assert!(
            after
                .split_whitespace()
                .all(|word| word.starts_with("KASKO_")),
            "after {name}(...): {after:?}"
        );
        let params_text = statement[open + 1..close].trim();
        let params = if params_text == "void" || params_text.is_empty() {
            Vec::new()
        } else {
            params_text
                .split(',')
                .map(|param| {
                    let (c_type, param_name) = split_last_ident(param);
                    assert!(
                        !param_name.is_empty() && !c_type.trim().is_empty(),
                        "{name}: an unnamed parameter {param:?}"
                    );
                    c_type_to_rust(c_type)
                })
                .collect()
        };
        let function = Function {
            params,
            ret: c_type_to_rust(ret),
        };
        let old = found.functions.insert(name.to_string(), function);
        assert!(old.is_none(), "{name} is declared twice in the header");
    }
    found
}

// ---- Rust -----------------------------------------------------------------------

fn rust_type(text: &str) -> String {
    let text = squeeze(text);
    let text = text
        .replace("std::os::raw::", "")
        .replace("std::ffi::", "")
        .replace("core::ffi::", "");
    if text.is_empty() {
        "()".to_string()
    } else {
        text
    }
}

fn parse_sys(text: &str) -> Declarations {
    let code: String = text
        .lines()
        .map(|line| line.find("//").map_or(line, |i| &line[..i]))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Declarations::default();
    for line in code.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("pub const ") {
            let (name, rest) = rest.split_once(':').expect("pub const NAME: TYPE = VALUE;");
            let (ty, value) = rest.split_once('=').expect("pub const NAME: TYPE = VALUE;");
            let value = value.trim().trim_end_matches(';');
            let old = found
                .constants
                .insert(name.trim().into(), (rust_type(ty), parse_int(value)));
            assert!(old.is_none(), "{name} is declared twice in sys.rs");
        } else if let Some(rest) = line.strip_prefix("pub type ") {
            let (name, ty) = rest.split_once('=').expect("pub type NAME = TYPE;");
            let ty = ty.trim().trim_end_matches(';');
            let ty = match squeeze(ty).strip_prefix("Option<unsafeextern\"C\"fn(") {
                // Parameter names dropped: the header's and ours may differ.
                Some(rest) => {
                    let (params, ret) = rest.split_once(')').expect("fn(...)");
                    let params: Vec<String> = params
                        .split(',')
                        .filter(|param| !param.is_empty())
                        .map(|param| rust_type(param.split_once(':').map_or(param, |(_, ty)| ty)))
                        .collect();
                    let ret = ret.trim_end_matches('>');
                    function_pointer(&params, &rust_type(ret.strip_prefix("->").unwrap_or(ret)))
                }
                None => rust_type(ty),
            };
            found.types.insert(name.trim().into(), ty);
        } else if let Some(rest) = line.strip_prefix("pub struct ") {
            let name: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
            found.structs.push(name);
        }
    }
    let mut rest = code.as_str();
    while let Some(start) = rest.find("pub fn ") {
        rest = &rest[start + "pub fn ".len()..];
        let open = rest.find('(').expect("pub fn NAME(");
        let name = rest[..open].trim().to_string();
        let close = rest.find(')').expect("pub fn NAME(...)");
        let end = rest.find(';').expect("pub fn NAME(...) -> T;");
        let params = rest[open + 1..close]
            .split(',')
            .filter(|param| !param.trim().is_empty())
            .map(|param| {
                let (_, ty) = param.split_once(':').expect("NAME: TYPE");
                rust_type(ty)
            })
            .collect();
        let ret = rest[close + 1..end].trim();
        let ret = rust_type(ret.strip_prefix("->").unwrap_or(ret));
        let old = found
            .functions
            .insert(name.clone(), Function { params, ret });
        assert!(old.is_none(), "{name} is declared twice in sys.rs");
        rest = &rest[end..];
    }
    found
}

// ---- the checks -------------------------------------------------------------------

fn compare(header: &Declarations, sys: &Declarations) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, (c_type, value)) in &header.constants {
        match sys.constants.get(name) {
            None => problems.push(format!("{name} = {value} ({c_type}) is not in sys.rs")),
            Some((rust_type, rust_value)) => {
                if rust_value != value {
                    problems.push(format!("{name}: sys.rs says {rust_value}, kasko.h {value}"));
                }
                let expected = if c_type == "#define" { "c_int" } else { c_type };
                if rust_type != expected {
                    problems.push(format!(
                        "{name}: sys.rs types it {rust_type}, kasko.h {expected}"
                    ));
                }
            }
        }
    }
    for name in sys.constants.keys() {
        if !header.constants.contains_key(name) {
            problems.push(format!("sys.rs declares {name}, which kasko.h does not"));
        }
    }
    for (name, rust_type) in &header.types {
        match sys.types.get(name) {
            Some(declared) if declared == rust_type => {}
            Some(declared) => problems.push(format!(
                "enum {name}: sys.rs says {declared}, its values make it {rust_type}"
            )),
            None => problems.push(format!("enum {name} has no `pub type` in sys.rs")),
        }
    }
    for name in sys.types.keys() {
        if !header.types.contains_key(name) {
            problems.push(format!(
                "sys.rs declares type {name}, which kasko.h does not"
            ));
        }
    }
    for name in &header.structs {
        if !sys.structs.contains(name) {
            problems.push(format!("struct {name} is not in sys.rs"));
        }
    }
    for name in &sys.structs {
        if !header.structs.contains(name) {
            problems.push(format!(
                "sys.rs declares struct {name}, which kasko.h does not"
            ));
        }
    }
    for (name, function) in &header.functions {
        match sys.functions.get(name) {
            None => problems.push(format!("{name} is not in sys.rs")),
            Some(declared) if declared != function => problems.push(format!(
                "{name}: sys.rs says ({}) -> {}, kasko.h ({}) -> {}",
                declared.params.join(", "),
                declared.ret,
                function.params.join(", "),
                function.ret
            )),
            Some(_) => {}
        }
    }
    for name in sys.functions.keys() {
        if !header.functions.contains_key(name) {
            problems.push(format!("sys.rs declares {name}, which kasko.h does not"));
        }
    }
    problems
}

#[test]
fn sys_rs_declares_exactly_what_kasko_h_does() {
    let path = header_path();
    let header = parse_header(&read(&path));
    let sys = parse_sys(&read(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/sys.rs"),
    ));
    // Not vacuous: what 1.0 alone has.
    assert!(
        header.functions.len() >= 7,
        "{}: {:?}",
        path.display(),
        header.functions
    );
    assert!(
        header.constants.len() >= 11,
        "{}: {:?}",
        path.display(),
        header.constants
    );
    assert_eq!(
        header.constants.get("KASKO_ERR_INTERNAL").map(|c| c.1),
        Some(10)
    );
    assert!(sys.functions.contains_key("kasko_payment_get"));
    let problems = compare(&header, &sys);
    assert!(
        problems.is_empty(),
        "sys.rs and {} disagree:\n  {}",
        path.display(),
        problems.join("\n  ")
    );
}

#[test]
fn the_checker_reads_c_and_rust_alike() {
    let header = parse_header(
        "#ifndef X\n#define X\n# define KASKO_VERSION_NUMBER 1001000\n#define KASKO_VERSION \"1.1.0\"\n\
         /** doc; with (parens) */\ntypedef enum kasko_thing {\n  KASKO_THING_A = 0, /* a */\n  KASKO_THING_B,\n\
         KASKO_THING_C = 0x10,\n} kasko_thing;\ntypedef struct kasko_box kasko_box;\n\
         #ifdef __cplusplus\nextern \"C\" {\n#endif\n\
         const char *kasko_name(kasko_thing thing) KASKO_NOEXCEPT KASKO_WARN_UNUSED_RESULT;\n\
         kasko_thing kasko_get(const kasko_box *box, const char **out_text, size_t *out_length,\n\
             kasko_box **out_box, long n, int64_t *v) KASKO_NOEXCEPT;\n\
         void kasko_free(kasko_box *box);\nint kasko_number(void);\n\
         #ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n#endif\n",
    );
    let sys = parse_sys(
        "pub type kasko_thing = c_uint;\n/// A.\npub const KASKO_THING_A: kasko_thing = 0;\n\
         pub const KASKO_THING_B: kasko_thing = 1; // b\npub const KASKO_THING_C: kasko_thing = 16;\n\
         pub const KASKO_VERSION_NUMBER: c_int = 1001000;\n#[repr(C)]\npub struct kasko_box {\n}\n\
         extern \"C\" {\n    /// `const char *kasko_name(kasko_thing)`.\n\
             pub fn kasko_name(thing: kasko_thing) -> *const c_char;\n\
             pub fn kasko_get(\n        b: *const kasko_box,\n        t: *mut *const std::os::raw::c_char,\n\
                 l: *mut usize,\n        o: *mut *mut kasko_box,\n        n: c_long,\n        v: *mut i64,\n\
             ) -> kasko_thing;\n    pub fn kasko_free(b: *mut kasko_box);\n    pub fn kasko_number() -> c_int;\n}\n",
    );
    assert_eq!(compare(&header, &sys), Vec::<String>::new());
    assert_eq!(header.functions.len(), 4);
    assert_eq!(header.constants.len(), 4);

    // And it notices a retyped value, a wrong type and a missing function.
    let wrong = parse_sys(
        "pub type kasko_thing = c_int;\npub const KASKO_THING_A: kasko_thing = 0;\n\
         pub const KASKO_THING_B: c_uint = 1;\npub const KASKO_THING_C: kasko_thing = 17;\n\
         pub const KASKO_VERSION_NUMBER: c_int = 1001000;\npub struct kasko_box {}\n\
         extern \"C\" {\n    pub fn kasko_name(thing: kasko_thing) -> *mut c_char;\n\
             pub fn kasko_free(b: *const kasko_box);\n    pub fn kasko_number() -> c_int;\n\
             pub fn kasko_extra();\n}\n",
    );
    let problems = compare(&header, &wrong);
    for expected in [
        "KASKO_THING_C: sys.rs says 17",
        "KASKO_THING_B: sys.rs types it c_uint",
        "enum kasko_thing: sys.rs says c_int",
        "kasko_get is not in sys.rs",
        "kasko_name: sys.rs says",
        "kasko_free: sys.rs says",
        "sys.rs declares kasko_extra",
    ] {
        assert!(
            problems.iter().any(|problem| problem.starts_with(expected)),
            "{expected:?} not in {problems:#?}"
        );
    }
}
