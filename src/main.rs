fn main() {
    println!("sme");
}
