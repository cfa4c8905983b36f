//! Finds libkasko for the linker, in this order:
//!
//! 1. `KASKO_LIB_DIR`, when set: the directory holding `libkasko.so`
//!    (a libkasko build tree's `build/`, or any install's lib directory);
//! 2. `pkg-config --libs kasko` (the `libkasko-dev` package or `make install`;
//!    `PKG_CONFIG` names another pkg-config, `PKG_CONFIG_PATH` is honoured).
//!
//! If neither works the build stops and says how to fix it. Nothing is
//! baked into the binaries (no rpath): at run time the dynamic loader finds
//! `libkasko.so.1` as for any system library, or through `LD_LIBRARY_PATH`.
use std::env;
use std::path::PathBuf;
use std::process::{self, Command};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KASKO_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    if let Some(dir) = env::var_os("KASKO_LIB_DIR").filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.join("libkasko.so").exists() {
            fail(&format!(
                "KASKO_LIB_DIR is {}, but it holds no libkasko.so",
                dir.display()
            ));
        }
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=dylib=kasko");
        return;
    }

    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&pkg_config).args(["--libs", "kasko"]).output();
    match output {
        Ok(output) if output.status.success() => {
            let libs = String::from_utf8_lossy(&output.stdout);
            let mut linked = false;
            for flag in libs.split_whitespace() {
                if let Some(dir) = flag.strip_prefix("-L") {
                    println!("cargo:rustc-link-search=native={dir}");
                } else if let Some(lib) = flag.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib=dylib={lib}");
                    linked |= lib == "kasko";
                } else {
                    println!("cargo:rustc-link-arg={flag}");
                }
            }
            if !linked {
                println!("cargo:rustc-link-lib=dylib=kasko");
            }
        }
        Ok(output) => fail(&format!(
            "`{pkg_config} --libs kasko` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(error) => fail(&format!("cannot run `{pkg_config}`: {error}")),
    }
}

fn fail(why: &str) -> ! {
    eprintln!(
        "error: libkasko not found ({why}).\n\
         Install it (the libkasko-dev package, or `make install` in a libkasko tree) so that \
         `pkg-config --libs kasko` works, or set KASKO_LIB_DIR to the directory that holds \
         libkasko.so, e.g. KASKO_LIB_DIR=$PWD/build in a built libkasko tree."
    );
    process::exit(1);
}
