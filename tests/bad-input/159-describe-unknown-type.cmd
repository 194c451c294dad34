# describe a type that does not exist.
describe widgets
